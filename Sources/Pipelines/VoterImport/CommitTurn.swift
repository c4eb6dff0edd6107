/// Keeps pipelined batches committing in file order. Each batch's load settles its own turn once its transaction
/// has ended, and the batch after it waits on that turn before it writes its checkpoint and commits. So the batches
/// committed are always the file up to the last checkpoint, which is what a resume after `kill -9` starts from.
struct CommitTurn: Sendable {
    private let settled: AsyncStream<Bool>
    private let settle: AsyncStream<Bool>.Continuation

    init() {
        (settled, settle) = AsyncStream.makeStream(of: Bool.self)
    }

    /// Says whether the batch committed (false: it failed, was rolled back or was never loaded). Once only.
    func settle(committed: Bool) {
        settle.yield(committed)
        settle.finish()
    }

    /// Waits for the batch to settle: true when it committed. False also when the waiting task is cancelled.
    func committed() async -> Bool {
        for await committed in settled { return committed }
        return false
    }
}
