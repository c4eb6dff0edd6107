import Foundation

/// What undoes a claim the ledger never took, and the sweeper of slots whose lease has passed.
extension JobQueue {
    /// Puts popped ids back in their org's queue with their old score (an id already there stays
    /// once), the orgs back in the ring, and frees the claims' slots, in one step.
    /// KEYS: active set, ring, ring set, then (org active set, org queue) per org; ARGV: the org
    /// count, the orgs (in the order of their keys), then (org index, id, score, token) per claim.
    static let requeueScript = RedisScript(
        """
        local active, ring, ringset, orgs = KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1])
        for i = 1, orgs do
          if redis.call('SADD', ringset, ARGV[1 + i]) == 1 then
            redis.call('RPUSH', ring, ARGV[1 + i])
          end
        end
        for i = orgs + 2, #ARGV, 4 do
          local k = tonumber(ARGV[i])
          redis.call('ZADD', KEYS[3 + 2 * k], 'NX', ARGV[i + 2], ARGV[i + 1])
          redis.call('ZREM', active, ARGV[i + 3])
          redis.call('ZREM', KEYS[2 + 2 * k], ARGV[i + 3])
        end
        return 1
        """
    )

    /// Drops every slot whose lease has passed from the pipeline's active set and from the active
    /// set of each org with queued work (the claim script does the same only for orgs it visits).
    /// Returns how many slots it dropped. KEYS: active set, ring set; the orgs' keys are built
    /// from the active set's name.
    static let sweepScript = RedisScript(
        """
        local active, ringset = KEYS[1], KEYS[2]
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local dropped = redis.call('ZREMRANGEBYSCORE', active, '-inf', now)
        for _, org in ipairs(redis.call('SMEMBERS', ringset)) do
          dropped = dropped + redis.call('ZREMRANGEBYSCORE', active .. ':' .. org, '-inf', now)
        end
        return dropped
        """
    )

    /// Undoes `claims` of `pipeline` the ledger did not take: their ids go back to the queue at
    /// once (not after the reconciler's grace) and their slots are freed.
    public func requeue(pipeline: String, _ claims: [Claim]) async throws {
        guard !claims.isEmpty else { return }
        var keys = [base(pipeline) + "active", base(pipeline) + "ring", base(pipeline) + "ringset"]
        var orgs: [String] = []
        var orgIndex: [String: Int] = [:]
        var claimArguments: [String] = []
        for claim in claims {
            if orgIndex[claim.org] == nil {
                orgs.append(claim.org)
                keys += [base(pipeline) + "active:" + claim.org, base(pipeline) + "q:" + claim.org]
                orgIndex[claim.org] = orgs.count
            }
            claimArguments += [String(orgIndex[claim.org]!), claim.jobId.uuidString.lowercased(), claim.score, claim.token.uuidString.lowercased()]
        }
        try await redis.run(Self.requeueScript, keys: keys, arguments: [String(orgs.count)] + orgs + claimArguments)
    }

    /// Frees the slots of `pipeline` whose lease has passed; returns how many.
    @discardableResult
    public func sweepExpiredSlots(pipeline: String) async throws -> Int {
        try await redis.run(Self.sweepScript, keys: [base(pipeline) + "active", base(pipeline) + "ringset"], arguments: []).int ?? 0
    }
}
