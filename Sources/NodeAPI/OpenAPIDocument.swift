/// The OpenAPI 3.1 description of the node's HTTP API, served at
/// `GET /v1/openapi.json` for client generators and API consoles.
/// `OpenAPITests` keeps it true: the routes the server has are exactly the
/// ones described, and every answer the routes give in those tests matches
/// the schema described for its status.
public enum OpenAPIDocument {
    /// The document for a node of `version`, as JSON text.
    public static func json(version: String) -> String {
        ##"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Consort node API",
    "version": "\##(version)",
    "description": "The HTTP API of a Consort node: submit transactions, read blocks, transactions, contract queries and state proofs, follow committed blocks. Errors are `{\"error\": {\"code\", \"message\"}}` with the status given here; a route or method not described here is 404 with that body."
  },
  "paths": {
    "/health/live": {
      "get": {
        "operationId": "liveness",
        "summary": "Liveness: the process answers.",
        "responses": {
          "200": {
            "description": "Always, while the process runs.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        }
      }
    },
    "/health/ready": {
      "get": {
        "operationId": "readiness",
        "summary": "Readiness: the node commits with a quorum and is not faulted.",
        "responses": {
          "200": {
            "description": "Ready: committing, connected to a quorum, not faulted.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "503": {
            "description": "Not ready; `problems` says why.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        }
      }
    },
    "/health": {
      "get": {
        "operationId": "health",
        "summary": "Readiness: the node commits with a quorum and is not faulted.",
        "responses": {
          "200": {
            "description": "Ready: committing, connected to a quorum, not faulted.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "503": {
            "description": "Not ready; `problems` says why.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "summary": "Prometheus metrics (docs/operations.md lists them).",
        "responses": {
          "200": {
            "description": "The text exposition format.",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        }
      }
    },
    "/v1/openapi.json": {
      "get": {
        "operationId": "openAPIDocument",
        "summary": "This document.",
        "responses": {
          "200": {
            "description": "The OpenAPI document of this node's API.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/OpenAPIDocument"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        }
      }
    },
    "/v1/status": {
      "get": {
        "operationId": "status",
        "summary": "The node's height, view, primary, validators and pool.",
        "responses": {
          "200": {
            "description": "The node's status.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        }
      }
    },
    "/v1/genesis": {
      "get": {
        "operationId": "genesis",
        "summary": "The chain id, genesis hash and validators.",
        "responses": {
          "200": {
            "description": "The genesis this node runs.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Genesis"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        }
      }
    },
    "/v1/transactions": {
      "post": {
        "operationId": "submitTransaction",
        "summary": "Submit one signed transaction as hex of its canonical encoding.",
        "responses": {
          "202": {
            "description": "Admitted to the pool (or already there: `new` is false).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SubmissionAnswer"
                }
              }
            }
          },
          "400": {
            "description": "The body is not the request, the hex does not decode, or the transaction does not decode.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "413": {
            "description": "The body is larger than the node accepts.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "422": {
            "description": "The ledger would refuse the transaction: the code says why (nonce, sender, permission, expiry, chain, signature).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "503": {
            "description": "The pool is full: send it again after `Retry-After` seconds.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            },
            "headers": {
              "Retry-After": {
                "description": "Seconds to wait before sending again.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        },
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SubmissionRequest"
              }
            }
          }
        }
      }
    },
    "/v1/transactions/batch": {
      "post": {
        "operationId": "submitTransactionBatch",
        "summary": "Submit many signed transactions in the canonical binary encoding; one result per transaction.",
        "responses": {
          "200": {
            "description": "A result per transaction, in order; `Retry-After` comes with it when some are busy.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/BatchSubmissionAnswer"
                }
              }
            },
            "headers": {
              "Retry-After": {
                "description": "Seconds to wait before sending again.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            }
          },
          "400": {
            "description": "The batch does not decode (count, lengths, trailing bytes).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "413": {
            "description": "The body is larger than a batch may be.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "415": {
            "description": "The body is not application/octet-stream.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "503": {
            "description": "Every transaction of the batch is busy: send them again after `Retry-After` seconds.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/BatchSubmissionAnswer"
                }
              }
            },
            "headers": {
              "Retry-After": {
                "description": "Seconds to wait before sending again.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        },
        "requestBody": {
          "required": true,
          "content": {
            "application/octet-stream": {
              "schema": {
                "type": "string",
                "format": "binary",
                "description": "A count, then each transaction's canonical bytes with their length (the canonical encoding of a list of byte strings)."
              }
            }
          }
        }
      }
    },
    "/v1/transactions/{id}": {
      "get": {
        "operationId": "transactionStatus",
        "summary": "A transaction: pending, or committed with its receipt and the evidence to check its inclusion offline.",
        "responses": {
          "200": {
            "description": "Pending or committed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TransactionStatus"
                }
              }
            }
          },
          "400": {
            "description": "The id is not a hash.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "404": {
            "description": "Neither pending nor committed on this node.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        },
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The transaction id.",
            "schema": {
              "$ref": "#/components/schemas/Hash"
            }
          }
        ]
      }
    },
    "/v1/blocks/{height}": {
      "get": {
        "operationId": "block",
        "summary": "A block with its receipts, certificate and canonical encoding.",
        "responses": {
          "200": {
            "description": "The block.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Block"
                }
              }
            }
          },
          "400": {
            "description": "The height is neither a number nor `latest`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "404": {
            "description": "No block at that height yet.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        },
        "parameters": [
          {
            "name": "height",
            "in": "path",
            "required": true,
            "description": "A block height, or `latest`.",
            "schema": {
              "oneOf": [
                {
                  "type": "integer",
                  "minimum": 0
                },
                {
                  "type": "string",
                  "enum": [
                    "latest"
                  ]
                }
              ]
            }
          }
        ]
      }
    },
    "/v1/accounts/{key}/nonce": {
      "get": {
        "operationId": "nonce",
        "summary": "The next nonce of a sender key, committed and counting the pool.",
        "responses": {
          "200": {
            "description": "The nonces and the key's organization.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Nonce"
                }
              }
            }
          },
          "400": {
            "description": "The key is not a compressed public key.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        },
        "parameters": [
          {
            "name": "key",
            "in": "path",
            "required": true,
            "description": "A member's public key.",
            "schema": {
              "$ref": "#/components/schemas/PublicKey"
            }
          }
        ]
      }
    },
    "/v1/query/{contract}/{name}": {
      "get": {
        "operationId": "query",
        "summary": "A contract query; its parameters are the query string (docs/contracts.md lists each contract's queries).",
        "responses": {
          "200": {
            "description": "The answer, at the height it was read.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/QueryAnswer"
                }
              }
            }
          },
          "400": {
            "description": "Unknown query or a bad parameter.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "403": {
            "description": "The query is not open to the caller.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "404": {
            "description": "What the query names does not exist.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        },
        "parameters": [
          {
            "name": "contract",
            "in": "path",
            "required": true,
            "description": "The contract's name.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The query's name.",
            "schema": {
              "type": "string"
            }
          }
        ]
      }
    },
    "/v1/proof/{contract}": {
      "get": {
        "operationId": "proof",
        "summary": "A state proof of one key against the head's state root.",
        "responses": {
          "200": {
            "description": "The value (null when absent) and its proof.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Proof"
                }
              }
            }
          },
          "400": {
            "description": "The key is not hex of a state key.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "404": {
            "description": "No contract of that name.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        },
        "parameters": [
          {
            "name": "contract",
            "in": "path",
            "required": true,
            "description": "The contract's name.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "key",
            "in": "query",
            "required": true,
            "description": "The state key, in hex (1 byte at least).",
            "schema": {
              "type": "string",
              "pattern": "^([0-9a-fA-F]{2})+$"
            }
          }
        ]
      }
    },
    "/v1/events": {
      "get": {
        "operationId": "events",
        "summary": "Server-Sent Events: each committed block with its receipts, from a height on.",
        "responses": {
          "200": {
            "description": "An endless stream; each event's id is the height and its data the block (JSON, or with `encoding=binary` hex of the canonical encoded block event).",
            "content": {
              "text/event-stream": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "400": {
            "description": "`from` is not a height of at least 1, or `encoding` is neither `json` nor `binary`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          },
          "500": {
            "description": "The node could not read its storage or encode its answer; its log and metrics say more.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ErrorAnswer"
                }
              }
            }
          }
        },
        "parameters": [
          {
            "name": "from",
            "in": "query",
            "required": false,
            "description": "The first height to send (default: the next block).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          },
          {
            "name": "encoding",
            "in": "query",
            "required": false,
            "description": "`json` (default) or `binary`.",
            "schema": {
              "type": "string",
              "enum": [
                "json",
                "binary"
              ]
            }
          }
        ]
      }
    }
  },
  "components": {
    "schemas": {
      "Hash": {
        "type": "string",
        "pattern": "^[0-9a-f]{64}$",
        "description": "A SHA-256 hash as 64 lower-case hex digits."
      },
      "PublicKey": {
        "type": "string",
        "pattern": "^0[23][0-9a-f]{64}$",
        "description": "A compressed secp256k1 public key as 66 hex digits."
      },
      "Signature": {
        "type": "string",
        "pattern": "^[0-9a-f]{128}$",
        "description": "A low-S compact secp256k1 signature as 128 hex digits."
      },
      "HexBytes": {
        "type": "string",
        "pattern": "^([0-9a-f]{2})*$",
        "description": "Bytes as lower-case hex, two digits each."
      },
      "ErrorDetail": {
        "type": "object",
        "properties": {
          "code": {
            "type": "string",
            "description": "A stable snake_case code."
          },
          "message": {
            "type": "string",
            "description": "What was wrong, for a person."
          }
        },
        "additionalProperties": false,
        "required": [
          "code",
          "message"
        ]
      },
      "ErrorAnswer": {
        "type": "object",
        "properties": {
          "error": {
            "$ref": "#/components/schemas/ErrorDetail"
          }
        },
        "additionalProperties": false,
        "required": [
          "error"
        ]
      },
      "SubmissionRequest": {
        "type": "object",
        "properties": {
          "transaction": {
            "$ref": "#/components/schemas/HexBytes"
          }
        },
        "additionalProperties": false,
        "required": [
          "transaction"
        ]
      },
      "SubmissionAnswer": {
        "type": "object",
        "properties": {
          "id": {
            "$ref": "#/components/schemas/Hash"
          },
          "status": {
            "type": "string",
            "enum": [
              "pending",
              "committed"
            ]
          },
          "new": {
            "type": "boolean",
            "description": "false when the node already had the transaction."
          }
        },
        "additionalProperties": false,
        "required": [
          "id",
          "new",
          "status"
        ]
      },
      "BatchSubmissionResult": {
        "type": "object",
        "properties": {
          "id": {
            "$ref": "#/components/schemas/Hash"
          },
          "status": {
            "type": "string",
            "enum": [
              "pending",
              "busy",
              "refused"
            ]
          },
          "new": {
            "type": "boolean"
          },
          "error": {
            "$ref": "#/components/schemas/ErrorDetail"
          }
        },
        "additionalProperties": false,
        "required": [
          "status"
        ]
      },
      "BatchSubmissionAnswer": {
        "type": "object",
        "properties": {
          "results": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/BatchSubmissionResult"
            },
            "description": "One result per transaction, in the batch's order."
          },
          "retryAfterMs": {
            "type": "integer",
            "minimum": 0,
            "description": "Present when some transaction is busy: how long to wait before sending it again."
          }
        },
        "additionalProperties": false,
        "required": [
          "results"
        ]
      },
      "Transaction": {
        "type": "object",
        "properties": {
          "id": {
            "$ref": "#/components/schemas/Hash"
          },
          "chainId": {
            "type": "string"
          },
          "sender": {
            "$ref": "#/components/schemas/PublicKey"
          },
          "nonce": {
            "type": "integer",
            "minimum": 0
          },
          "expiresAtMs": {
            "type": "integer",
            "minimum": 0
          },
          "contract": {
            "type": "string"
          },
          "operation": {
            "type": "string"
          },
          "arguments": {
            "$ref": "#/components/schemas/HexBytes"
          },
          "signature": {
            "$ref": "#/components/schemas/Signature"
          }
        },
        "additionalProperties": false,
        "required": [
          "arguments",
          "chainId",
          "contract",
          "expiresAtMs",
          "id",
          "nonce",
          "operation",
          "sender",
          "signature"
        ]
      },
      "Event": {
        "type": "object",
        "properties": {
          "contract": {
            "type": "string"
          },
          "name": {
            "type": "string"
          },
          "attributes": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            }
          },
          "repeated": {
            "type": "object",
            "additionalProperties": {
              "type": "array",
              "items": {
                "type": "string"
              }
            },
            "description": "Attributes given more than once, with every value."
          }
        },
        "additionalProperties": false,
        "required": [
          "attributes",
          "contract",
          "name"
        ]
      },
      "Receipt": {
        "type": "object",
        "properties": {
          "transactionId": {
            "$ref": "#/components/schemas/Hash"
          },
          "status": {
            "type": "string",
            "enum": [
              "success",
              "rejected"
            ]
          },
          "events": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Event"
            }
          },
          "error": {
            "$ref": "#/components/schemas/ErrorDetail"
          }
        },
        "additionalProperties": false,
        "required": [
          "events",
          "status",
          "transactionId"
        ]
      },
      "BlockHeader": {
        "type": "object",
        "properties": {
          "height": {
            "type": "integer",
            "minimum": 0
          },
          "hash": {
            "$ref": "#/components/schemas/Hash"
          },
          "parentHash": {
            "$ref": "#/components/schemas/Hash"
          },
          "timestampMs": {
            "type": "integer",
            "minimum": 0
          },
          "proposer": {
            "$ref": "#/components/schemas/PublicKey"
          },
          "transactionsRoot": {
            "$ref": "#/components/schemas/Hash"
          },
          "stateHeight": {
            "type": "integer",
            "minimum": 0
          },
          "stateRoot": {
            "$ref": "#/components/schemas/Hash"
          },
          "validatorSetHash": {
            "$ref": "#/components/schemas/Hash"
          }
        },
        "additionalProperties": false,
        "required": [
          "hash",
          "height",
          "parentHash",
          "proposer",
          "stateHeight",
          "stateRoot",
          "timestampMs",
          "transactionsRoot",
          "validatorSetHash"
        ]
      },
      "ValidatorSignature": {
        "type": "object",
        "properties": {
          "validator": {
            "type": "integer",
            "minimum": 0
          },
          "signature": {
            "$ref": "#/components/schemas/Signature"
          }
        },
        "additionalProperties": false,
        "required": [
          "signature",
          "validator"
        ]
      },
      "Certificate": {
        "type": "object",
        "properties": {
          "height": {
            "type": "integer",
            "minimum": 0
          },
          "view": {
            "type": "integer",
            "minimum": 0
          },
          "blockHash": {
            "$ref": "#/components/schemas/Hash"
          },
          "signatures": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/ValidatorSignature"
            }
          }
        },
        "additionalProperties": false,
        "required": [
          "blockHash",
          "height",
          "signatures",
          "view"
        ]
      },
      "InclusionEvidence": {
        "type": "object",
        "properties": {
          "header": {
            "$ref": "#/components/schemas/HexBytes"
          },
          "merkleProof": {
            "$ref": "#/components/schemas/HexBytes"
          },
          "certificate": {
            "$ref": "#/components/schemas/HexBytes"
          }
        },
        "additionalProperties": false,
        "required": [
          "certificate",
          "header",
          "merkleProof"
        ]
      },
      "PendingTransaction": {
        "type": "object",
        "properties": {
          "id": {
            "$ref": "#/components/schemas/Hash"
          },
          "status": {
            "type": "string",
            "enum": [
              "pending"
            ]
          }
        },
        "additionalProperties": false,
        "required": [
          "id",
          "status"
        ]
      },
      "CommittedTransaction": {
        "type": "object",
        "properties": {
          "id": {
            "$ref": "#/components/schemas/Hash"
          },
          "status": {
            "type": "string",
            "enum": [
              "committed"
            ]
          },
          "height": {
            "type": "integer",
            "minimum": 0
          },
          "index": {
            "type": "integer",
            "minimum": 0
          },
          "receipt": {
            "$ref": "#/components/schemas/Receipt"
          },
          "transaction": {
            "$ref": "#/components/schemas/Transaction"
          },
          "inclusion": {
            "$ref": "#/components/schemas/InclusionEvidence"
          }
        },
        "additionalProperties": false,
        "required": [
          "height",
          "id",
          "index",
          "receipt",
          "status",
          "transaction"
        ]
      },
      "TransactionStatus": {
        "oneOf": [
          {
            "$ref": "#/components/schemas/PendingTransaction"
          },
          {
            "$ref": "#/components/schemas/CommittedTransaction"
          }
        ]
      },
      "Block": {
        "type": "object",
        "properties": {
          "header": {
            "$ref": "#/components/schemas/BlockHeader"
          },
          "transactions": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Transaction"
            }
          },
          "receipts": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Receipt"
            }
          },
          "certificate": {
            "$ref": "#/components/schemas/Certificate"
          },
          "resultingStateRoot": {
            "$ref": "#/components/schemas/Hash"
          },
          "encoded": {
            "$ref": "#/components/schemas/HexBytes"
          }
        },
        "additionalProperties": false,
        "required": [
          "header",
          "transactions"
        ]
      },
      "ValidatorStatus": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string"
          },
          "nodeKey": {
            "$ref": "#/components/schemas/PublicKey"
          },
          "address": {
            "type": "string"
          },
          "connected": {
            "type": "boolean"
          },
          "self": {
            "type": "boolean"
          }
        },
        "additionalProperties": false,
        "required": [
          "address",
          "connected",
          "name",
          "nodeKey",
          "self"
        ]
      },
      "Status": {
        "type": "object",
        "properties": {
          "node": {
            "type": "string"
          },
          "role": {
            "type": "string"
          },
          "height": {
            "type": "integer",
            "minimum": 0
          },
          "lastBlockHash": {
            "$ref": "#/components/schemas/Hash"
          },
          "stateRoot": {
            "$ref": "#/components/schemas/Hash"
          },
          "lastBlockTimeMs": {
            "type": "integer",
            "minimum": 0
          },
          "view": {
            "type": "integer",
            "minimum": 0
          },
          "primary": {
            "type": [
              "string",
              "null"
            ]
          },
          "mempoolSize": {
            "type": "integer",
            "minimum": 0
          },
          "syncing": {
            "type": "boolean"
          },
          "validators": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/ValidatorStatus"
            }
          },
          "fault": {
            "type": [
              "string",
              "null"
            ]
          }
        },
        "additionalProperties": false,
        "required": [
          "fault",
          "height",
          "lastBlockHash",
          "lastBlockTimeMs",
          "mempoolSize",
          "node",
          "primary",
          "role",
          "stateRoot",
          "syncing",
          "validators",
          "view"
        ]
      },
      "GenesisValidator": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string"
          },
          "organization": {
            "type": "string"
          },
          "nodeKey": {
            "$ref": "#/components/schemas/PublicKey"
          },
          "address": {
            "type": "string"
          }
        },
        "additionalProperties": false,
        "required": [
          "address",
          "name",
          "nodeKey",
          "organization"
        ]
      },
      "Genesis": {
        "type": "object",
        "properties": {
          "chainId": {
            "type": "string"
          },
          "hash": {
            "$ref": "#/components/schemas/Hash"
          },
          "validators": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/GenesisValidator"
            }
          }
        },
        "additionalProperties": false,
        "required": [
          "chainId",
          "hash",
          "validators"
        ]
      },
      "Nonce": {
        "type": "object",
        "properties": {
          "key": {
            "$ref": "#/components/schemas/PublicKey"
          },
          "nextNonce": {
            "type": "integer",
            "minimum": 0
          },
          "pendingNonce": {
            "type": "integer",
            "minimum": 0
          },
          "organization": {
            "type": [
              "string",
              "null"
            ]
          }
        },
        "additionalProperties": false,
        "required": [
          "key",
          "nextNonce",
          "organization",
          "pendingNonce"
        ]
      },
      "QueryAnswer": {
        "type": "object",
        "properties": {
          "height": {
            "type": "integer",
            "minimum": 0
          },
          "result": {
            "description": "The query's answer; its shape is the query's (docs/contracts.md)."
          }
        },
        "additionalProperties": false,
        "required": [
          "height",
          "result"
        ]
      },
      "Proof": {
        "type": "object",
        "properties": {
          "height": {
            "type": "integer",
            "minimum": 0
          },
          "stateRoot": {
            "$ref": "#/components/schemas/Hash"
          },
          "value": {
            "oneOf": [
              {
                "$ref": "#/components/schemas/HexBytes"
              },
              {
                "type": "null"
              }
            ]
          },
          "proof": {
            "$ref": "#/components/schemas/HexBytes"
          }
        },
        "additionalProperties": false,
        "required": [
          "height",
          "proof",
          "stateRoot",
          "value"
        ]
      },
      "Health": {
        "type": "object",
        "properties": {
          "status": {
            "type": "string"
          },
          "height": {
            "type": "integer",
            "minimum": 0
          },
          "problems": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "fault": {
            "type": "string"
          },
          "error": {
            "$ref": "#/components/schemas/ErrorDetail"
          }
        },
        "additionalProperties": false,
        "required": [
          "height",
          "status"
        ]
      },
      "OpenAPIDocument": {
        "type": "object",
        "description": "This document."
      }
    }
  }
}
"""##
    }
}
