import Foundation

/// Frees the Redis slots of finished or unused claims, batched per pipeline (see `WorkBacklog`).
/// The only place a worker frees a slot.
struct SlotReleaser: Sendable {
    struct Slot: Sendable {
        let pipeline: String
        let org: String
        let token: UUID
    }

    let queue: JobQueue
    private let backlog = WorkBacklog<Slot>()

    init(queue: JobQueue) {
        self.queue = queue
    }

    /// Frees `slots` soon (a slot not freed expires with its lease anyway).
    func release(_ slots: [Slot]) {
        backlog.add(slots)
    }

    func run() async {
        while let batch = await backlog.next(max: 5000) {
            for (pipeline, group) in Dictionary(grouping: batch, by: \.pipeline) {
                try? await queue.touchSlots(pipeline: pipeline, slots: group.map { ($0.org, $0.token) }, lease: nil)
            }
        }
    }

    func close() { backlog.close() }
}
