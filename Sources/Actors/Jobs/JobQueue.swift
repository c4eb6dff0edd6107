import Foundation
import Logging

/// The Redis transport. Per pipeline, each org has a sorted set of ready job ids (score: priority
/// first, then due time) and the orgs with work sit in a ring that claims rotate through, so
/// dispatch is round-robin across orgs however deep one org's backlog is. Claims, caps and the
/// ring move together in Lua scripts (atomic in Redis), loaded once and called by digest. All
/// keys of a pipeline share a hash tag; publishing and slot scripts pass every key they touch in
/// `KEYS`, the claim script cannot (the ring decides at run time whose queue comes next).
///
/// Redis holds no truth: a lost or flushed Redis is refilled from the ledger by the reconciler.
public struct JobQueue: Sendable {
    public let redis: RedisClient
    public let prefix: String

    public init(redis: RedisClient, prefix: String) {
        self.redis = redis
        self.prefix = prefix
    }

    func base(_ pipeline: String) -> String { "\(prefix)jobs:{\(pipeline)}:" }
    static func orgKey(_ orgId: UUID?) -> String { orgId?.uuidString.lowercased() ?? "platform" }
    var epochKey: String { "\(prefix)jobs:epoch" }

    static func score(_ job: EnqueuedJob) -> String {
        String(Int64(-job.priority) * 10_000_000_000_000 + Int64(job.runAt.timeIntervalSince1970 * 1000))
    }

    /// Adds ids to their org's ready set (an id already there stays once) and the orgs to the ring.
    /// KEYS: ring, ring set, then each org's ready set; ARGV: the org count, the orgs (in the order
    /// of their keys), then (key index, id, score) per job.
    static let publishScript = RedisScript(
        """
        local ring, ringset, orgs = KEYS[1], KEYS[2], tonumber(ARGV[1])
        for i = 1, orgs do
          if redis.call('SADD', ringset, ARGV[1 + i]) == 1 then
            redis.call('RPUSH', ring, ARGV[1 + i])
          end
        end
        local added = 0
        for i = orgs + 2, #ARGV, 3 do
          if redis.call('ZADD', KEYS[tonumber(ARGV[i])], 'NX', ARGV[i + 2], ARGV[i + 1]) == 1 then
            added = added + 1
          end
        end
        return added
        """
    )

    /// Pops up to `want` ids, one org at a time around the ring, skipping orgs at their cap and
    /// stopping at the pipeline's global cap. Each claim takes a slot (the lease token) in the
    /// pipeline's and the org's active sets, scored by expiry so a dead worker's slots free themselves.
    /// KEYS: active set, ring, ring set; the orgs' keys are built from the base in ARGV[1].
    static let claimScript = RedisScript(
        """
        local active, ring, ringset = KEYS[1], KEYS[2], KEYS[3]
        local base, want, gcap, ocap, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', active, '-inf', now)
        local running = redis.call('ZCARD', active)
        local n = redis.call('LLEN', ring)
        local out = {}
        local claimed, idle, slot = 0, 0, 6
        while claimed < want and running < gcap and n > 0 and idle < n do
          local org = redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
          local oactive = active .. ':' .. org
          redis.call('ZREMRANGEBYSCORE', oactive, '-inf', now)
          local queue = base .. 'q:' .. org
          if redis.call('ZCARD', oactive) >= ocap then
            idle = idle + 1
          else
            local popped = redis.call('ZPOPMIN', queue)
            if #popped > 0 then
              local token = ARGV[slot]
              slot = slot + 1
              redis.call('ZADD', active, now + lease, token)
              redis.call('ZADD', oactive, now + lease, token)
              out[#out + 1] = popped[1]
              out[#out + 1] = org
              out[#out + 1] = token
              out[#out + 1] = popped[2]
              claimed = claimed + 1
              running = running + 1
              idle = 0
            end
            if redis.call('ZCARD', queue) == 0 then
              redis.call('LREM', ring, -1, org)
              redis.call('SREM', ringset, org)
              n = n - 1
            end
          end
        end
        return out
        """
    )

    /// Extends or re-takes (or, with lease 0, frees) slots. KEYS: the pipeline's active set, then
    /// each org's; ARGV: lease ms, then (key index, token) per slot.
    static let slotsScript = RedisScript(
        """
        local active, lease = KEYS[1], tonumber(ARGV[1])
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        for i = 2, #ARGV, 2 do
          local oactive, token = KEYS[tonumber(ARGV[i])], ARGV[i + 1]
          if lease > 0 then
            -- Not XX: after a flush or restart the running jobs take their slots back, so caps hold again.
            redis.call('ZADD', active, now + lease, token)
            redis.call('ZADD', oactive, now + lease, token)
          else
            redis.call('ZREM', active, token)
            redis.call('ZREM', oactive, token)
          end
        end
        return 1
        """
    )

    /// Publishes queued jobs (others are ignored); returns how many ids were new to Redis.
    @discardableResult
    public func publish(_ jobs: [EnqueuedJob]) async throws -> Int {
        let ready = jobs.filter { $0.state == .queued }
        var added = 0
        for (pipeline, group) in Dictionary(grouping: ready, by: \.pipeline) {
            var start = 0
            while start < group.count {
                let chunk = group[start..<min(start + 2000, group.count)]
                var keys = [base(pipeline) + "ring", base(pipeline) + "ringset"]
                var orgs: [String] = []
                var keyIndex: [String: Int] = [:]
                var jobArguments: [String] = []
                jobArguments.reserveCapacity(chunk.count * 3)
                for job in chunk {
                    let org = Self.orgKey(job.orgId)
                    if keyIndex[org] == nil {
                        orgs.append(org)
                        keys.append(base(pipeline) + "q:" + org)
                        keyIndex[org] = keys.count
                    }
                    jobArguments += [String(keyIndex[org]!), job.id.uuidString.lowercased(), Self.score(job)]
                }
                let arguments = [String(orgs.count)] + orgs + jobArguments
                added += try await redis.run(Self.publishScript, keys: keys, arguments: arguments).int ?? 0
                start += chunk.count
            }
        }
        return added
    }

    /// A job id handed out by a claim, with the slot token that becomes its lease token and the
    /// score it had in its queue (so that it can be put back where it was).
    public struct Claim: Sendable {
        public let jobId: UUID
        public let org: String
        public let token: UUID
        public let score: String
    }

    /// Pops up to `max` ids of `pipeline` fairly across orgs within the caps.
    public func claim(_ config: PipelineConfig, max: Int) async throws -> [Claim] {
        guard max > 0 else { return [] }
        let tokens = (0..<max).map { _ in UUID().uuidString.lowercased() }
        let base = base(config.name)
        let reply = try await redis.run(
            Self.claimScript,
            keys: [base + "active", base + "ring", base + "ringset"],
            arguments: [
                base, String(max), String(config.globalConcurrency), String(config.perOrgConcurrency),
                String(config.lease.milliseconds),
            ] + tokens
        )
        guard case .array(let items) = reply else { return [] }
        var claims: [Claim] = []
        var index = 0
        while index + 3 < items.count {
            if let id = items[index].string.flatMap(UUID.init(uuidString:)), let org = items[index + 1].string,
                let token = items[index + 2].string.flatMap(UUID.init(uuidString:)), let score = items[index + 3].string
            {
                claims.append(Claim(jobId: id, org: org, token: token, score: score))
            }
            index += 4
        }
        return claims
    }

    /// Extends the slots of running jobs (lease > 0) or frees them (lease == nil).
    public func touchSlots(pipeline: String, slots: [(org: String, token: UUID)], lease: Duration?) async throws {
        guard !slots.isEmpty else { return }
        let active = base(pipeline) + "active"
        var keys = [active]
        var keyIndex: [String: Int] = [:]
        var arguments = [String(lease?.milliseconds ?? 0)]
        for slot in slots {
            if keyIndex[slot.org] == nil {
                keys.append(active + ":" + slot.org)
                keyIndex[slot.org] = keys.count
            }
            arguments += [String(keyIndex[slot.org]!), slot.token.uuidString.lowercased()]
        }
        try await redis.run(Self.slotsScript, keys: keys, arguments: arguments)
    }

    /// Sets the epoch marker; true when it was missing (Redis is new, restarted empty or was flushed).
    public func markEpoch() async throws -> Bool {
        let reply = try await redis.command("SET", epochKey, String(Int(Date().timeIntervalSince1970)), "NX")
        return reply == .status("OK")
    }

    /// Ids waiting in Redis for one pipeline (all orgs).
    public func depth(pipeline: String) async throws -> Int {
        let orgs = try await redis.command("SMEMBERS", base(pipeline) + "ringset")
        guard case .array(let names) = orgs else { return 0 }
        let replies = try await redis.pipeline(names.compactMap(\.string).map { ["ZCARD", base(pipeline) + "q:" + $0] })
        return replies.reduce(0) { $0 + ((try? $1.get())?.int ?? 0) }
    }
}
