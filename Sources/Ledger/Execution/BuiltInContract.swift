import LedgerCore

/// An operation of a built-in contract. The raw value is the operation's name
/// in a ``ContractCall`` (on-ledger: never rename a case's raw value), and
/// ``permittedKinds`` is its row of the contract's permission table, written
/// as an exhaustive switch so an operation cannot exist without one.
public protocol ContractOperation: RawRepresentable, CaseIterable, Hashable, Sendable where RawValue == String {
    /// The organization kinds the ledger lets call this operation; the
    /// contract then applies its finer rules (the holder only, the uploader only…).
    var permittedKinds: Set<OrganizationKind> { get }
}

/// The shape every built-in contract shares: a static name and an
/// ``Operation`` enum, from which the ledger's permission check and the one
/// way to build a call of the contract follow.
public protocol BuiltInContract: Contract {
    /// The contract's operations and their permission table.
    associatedtype Operation: ContractOperation

    /// The contract's name in calls and its state namespace.
    static var name: String { get }
}

extension BuiltInContract {
    /// The contract's name in calls and its state namespace.
    public var name: String { Self.name }

    /// The permission table of ``Operation``; nil for a name that is none of its cases.
    public func permittedKinds(for operation: String) -> Set<OrganizationKind>? {
        Operation(rawValue: operation)?.permittedKinds
    }

    /// The call of `operation` with `arguments` in their canonical encoding.
    public static func call(_ operation: Operation, _ arguments: some CanonicalEncodable) -> ContractCall {
        call(operation, encodedArguments: arguments.canonicalBytes)
    }

    /// The call of `operation` with arguments given as bytes: arguments
    /// encoded field by field, or bytes that are deliberately not an encoding.
    public static func call(_ operation: Operation, encodedArguments: [UInt8]) -> ContractCall {
        ContractCall(contract: name, operation: operation.rawValue, arguments: encodedArguments)
    }

    /// The operation `call` names, or the ledger's `unknown_operation` rejection.
    public func operation(of call: ContractCall) throws(Rejection) -> Operation {
        guard let operation = Operation(rawValue: call.operation) else {
            throw LedgerRejection.unknownOperation(contract: name, operation: call.operation)
        }
        return operation
    }
}
