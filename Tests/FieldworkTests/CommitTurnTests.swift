import Testing

@testable import Pipelines

/// The gate that keeps pipelined import batches committing in file order.
struct CommitTurnTests {
    @Test func theNextBatchLearnsWhetherTheOneBeforeItCommitted() async {
        let committed = CommitTurn()
        committed.settle(committed: true)
        #expect(await committed.committed())
        let rolledBack = CommitTurn()
        rolledBack.settle(committed: false)
        #expect(await rolledBack.committed() == false)
    }

    @Test func aWaiterWaitsForTheSettlement() async {
        let turn = CommitTurn()
        let waiter = Task { await turn.committed() }
        try? await Task.sleep(for: .milliseconds(50))
        turn.settle(committed: true)
        #expect(await waiter.value)
    }

    @Test func aCancelledWaiterIsToldNotCommitted() async {
        let turn = CommitTurn()
        let waiter = Task { await turn.committed() }
        waiter.cancel()
        #expect(await waiter.value == false, "a cancelled load rolls back rather than commit out of order")
        turn.settle(committed: true)
    }
}
