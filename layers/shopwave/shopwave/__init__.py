"""shopwave: keeps a Customwebshop and a Wave business in step.

The layer's packages: `clients` (Wave GraphQL, webshop REST), `state` (links, watermarks,
parked records, conflicts and claims in DynamoDB), `engine` (the one sync engine), `flows`
(the declarations the engine runs) and `lambda_entry` (what a function's handler calls).
"""
