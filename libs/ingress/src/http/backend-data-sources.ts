import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

// Azure OpenAI's "On Your Data": a chat call's `data_sources` (`dataSources` in the 2023
// previews) has the backend itself search an index (Azure AI Search, Cosmos DB,
// Elasticsearch...) and answer from what it found. It would search with whatever credential
// the entry names, the backend resource's own managed identity included, so through the
// gateway any caller could read every index the gateway's backend account may read, another
// team's among them; and the retrieval's embedding calls run outside every budget. Refused
// by name, as a Responses call's file_search and the Messages API's containers are.

const DATA_SOURCE_FIELDS = ['data_sources', 'dataSources'] as const;

/** Why, for a single call and a batch line alike. */
export const DATA_SOURCES_REASON =
  "this gateway lets no caller have its backend search data sources (they would be searched with the backend account's own access); retrieve the documents yourself and send them in 'messages'.";

/** The field by which a chat body asks its backend to search data sources, if one. */
export function backendDataSourcesField(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const fields = body as Record<string, unknown>;
  return DATA_SOURCE_FIELDS.find((field) => fields[field] !== undefined && fields[field] !== null);
}

/** A 400 naming the field when a chat body asks its backend to search data sources. */
export function refuseBackendDataSources(body: unknown): void {
  const field = backendDataSourcesField(body);
  if (field === undefined) return;
  throw new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `'${field}' is not supported: ${DATA_SOURCES_REASON}`,
    { param: field },
  );
}
