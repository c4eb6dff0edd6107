import Foundation
import JWTKit
import Store

/// The claims of an access token. Campaign tokens carry `org` and `role`; staff tokens carry
/// `staff: true` and no organization.
struct AccessClaims: JWTPayload {
    var sub: SubjectClaim
    var org: String?
    var role: String?
    var staff: Bool?
    var jti: IDClaim
    var iat: IssuedAtClaim
    var nbf: NotBeforeClaim
    var exp: ExpirationClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf.verifyNotBefore()
    }
}

/// Signs and verifies access tokens with HMAC-SHA256 only: the header's `alg` is checked before
/// the signature, so `none` and every other algorithm are refused whatever they carry.
struct AccessTokens: Sendable {
    let keys: JWTKeyCollection
    let ttl: Duration

    init(secret: String, ttl: Duration) async {
        self.keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.ttl = ttl
    }

    var expiresIn: Int { Int(ttl.components.seconds) }

    func issue(userId: UUID, orgId: UUID, role: Role) async throws -> String {
        try await sign(subject: userId.uuidString.lowercased(), org: orgId.uuidString.lowercased(), role: role.rawValue, staff: nil)
    }

    func issueStaff(email: String) async throws -> String {
        try await sign(subject: email, org: nil, role: nil, staff: true)
    }

    private func sign(subject: String, org: String?, role: String?, staff: Bool?) async throws -> String {
        let now = Date()
        let claims = AccessClaims(
            sub: .init(value: subject),
            org: org,
            role: role,
            staff: staff,
            jti: .init(value: UUID().uuidString.lowercased()),
            iat: .init(value: now),
            nbf: .init(value: now.addingTimeInterval(-1)),
            exp: .init(value: now.addingTimeInterval(Double(ttl.components.seconds)))
        )
        return try await keys.sign(claims, header: ["typ": "JWT"])
    }

    /// The caller a bearer token names, or `.invalid` with why not.
    func caller(fromBearer token: String) async -> Caller {
        guard Self.headerAlgorithm(of: token) == "HS256" else { return .invalid("unsupported token algorithm") }
        let claims: AccessClaims
        do {
            claims = try await keys.verify(token, as: AccessClaims.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            return .invalid("token expired or not yet valid")
        } catch {
            return .invalid("invalid token")
        }
        if claims.staff == true {
            return claims.org == nil ? .staff(email: claims.sub.value) : .invalid("invalid token")
        }
        guard let user = UUID(uuidString: claims.sub.value), let orgText = claims.org, let org = UUID(uuidString: orgText) else {
            return .invalid("invalid token")
        }
        return .member(userId: user, orgId: org)
    }

    static func headerAlgorithm(of token: String) -> String? {
        guard let first = token.split(separator: ".", omittingEmptySubsequences: false).first else { return nil }
        guard let data = Base64URL.decode(first),
            let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return header["alg"] as? String
    }
}
