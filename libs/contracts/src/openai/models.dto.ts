export interface OpenAiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/** `GET /v1/models`. */
export interface ModelList {
  object: 'list';
  data: OpenAiModel[];
}
