"""Wave: its GraphQL client and operations, and the side the engine syncs with (paging by
`modifiedAt`, aliased look-ups, the business catalogue of sales taxes and the discount product)."""
