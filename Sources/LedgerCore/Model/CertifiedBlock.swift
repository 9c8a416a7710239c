/// A block and the certificate that proves it final: what state transfer
/// moves between replicas and what the API serves to verify offline.
public struct CertifiedBlock: Equatable, Sendable, CanonicalCodable {
    /// The proposed block.
    public var block: Block
    /// The commit certificate proving the block final.
    public var certificate: CommitCertificate

    /// Creates a value from its parts.
    public init(block: Block, certificate: CommitCertificate) {
        self.block = block
        self.certificate = certificate
    }

    /// An upper bound of the encoded size, cheap to compute (no encoding).
    public var encodedBytesBound: Int { block.encodedBytesBound + certificate.encodedBytesBound }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(block)
        encoder.write(certificate)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        block = try decoder.read(Block.self, "certified block")
        certificate = try decoder.read(CommitCertificate.self, "certified block certificate")
    }
}
