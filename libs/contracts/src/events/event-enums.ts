/** The public API an event came through. */
export enum GatewayEndpoint {
  ChatCompletions = 'chat.completions',
  Completions = 'completions',
  Embeddings = 'embeddings',
  Messages = 'messages',
  /** OpenAI's Responses API (`/v1/responses`). */
  Responses = 'responses',
  /** Speech to text (`/v1/audio/transcriptions`). */
  AudioTranscriptions = 'audio.transcriptions',
  /** Speech to English text (`/v1/audio/translations`). */
  AudioTranslations = 'audio.translations',
  /** Text to speech (`/v1/audio/speech`). */
  AudioSpeech = 'audio.speech',
  /** Image generation (`/v1/images/generations`). */
  ImagesGenerations = 'images.generations',
  /** Image edits (`/v1/images/edits`). */
  ImagesEdits = 'images.edits',
  /** Image variations (`/v1/images/variations`, dall-e-2). */
  ImagesVariations = 'images.variations',
  /** Content moderation (`/v1/moderations`). */
  Moderations = 'moderations',
  /** Document reranking (`/v1/rerank`, Cohere's shape). */
  Rerank = 'rerank',
  /** Google's Gemini API (`/v1beta/models/{model}:generateContent`). */
  GeminiGenerateContent = 'gemini.generateContent',
  /** Its stream (`:streamGenerateContent?alt=sse`). */
  GeminiStreamGenerateContent = 'gemini.streamGenerateContent',
  /** Its embeddings of one content (`:embedContent`). */
  GeminiEmbedContent = 'gemini.embedContent',
  /** Its embeddings of a list of requests (`:batchEmbedContents`). */
  GeminiBatchEmbedContents = 'gemini.batchEmbedContents',
  /** A Realtime session (`/v1/realtime` WebSocket), one request from upgrade to close. */
  Realtime = 'realtime',
}

/** Why ingress turned a request away before any provider was called. */
export enum RejectReason {
  BudgetExhausted = 'budgetExhausted',
  RateLimited = 'rateLimited',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  NoMatchingTier = 'noMatchingTier',
  ModelNotAllowed = 'modelNotAllowed',
  InvalidRequest = 'invalidRequest',
  PayloadTooLarge = 'payloadTooLarge',
  BlockedContent = 'blockedContent',
  NoBackend = 'noBackend',
  /** The budget store could not be reached to admit the request. */
  BudgetUnavailable = 'budgetUnavailable',
}

export enum CompletionStatus {
  Success = 'success',
  UpstreamError = 'upstreamError',
  Timeout = 'timeout',
  ClientCancelled = 'clientCancelled',
  GatewayError = 'gatewayError',
}

/** Where token counts came from: the provider's own usage block, or our tokenizer estimate. */
export enum UsageSource {
  Reported = 'reported',
  Estimated = 'estimated',
}

/** The `failover.on` vocabulary of the spec. */
export enum FallbackReason {
  RateLimit = 'rateLimit',
  Timeout = 'timeout',
  Error = 'error',
  BudgetExceeded = 'budgetExceeded',
}

/** Every limit the spec can configure, named by its path in the config. */
export enum LimitKind {
  TokenBudgetPerUser = 'tokenBudget.perUser',
  TokenBudgetPerMinute = 'tokenBudget.perMinute',
  UserInputTokensPerMinute = 'tokenRateLimit.perUser.inputTokensPerMinute',
  UserOutputTokensPerMinute = 'tokenRateLimit.perUser.outputTokensPerMinute',
  UserTotalTokensPerDay = 'tokenRateLimit.perUser.totalTokensPerDay',
  /** Extension to the spec: calls per minute, whatever their size. */
  UserRequestsPerMinute = 'tokenRateLimit.perUser.requestsPerMinute',
  ModelTokensPerMinute = 'tokenRateLimit.perModel.tokensPerMinute',
  /** Extension to the spec: calls a model serves per minute, across its callers. */
  ModelRequestsPerMinute = 'tokenRateLimit.perModel.requestsPerMinute',
  TierDailyTokens = 'userTiers.tokenBudget.daily',
  TierCostTracking = 'userTiers.costTracking',
  MaxDailyCostPerUser = 'costControl.maxDailyCostPerUser',
}

export enum BudgetState {
  Exhausted = 'exhausted',
  Recovered = 'recovered',
  Remaining = 'remaining',
}

export enum BudgetUnit {
  Tokens = 'tokens',
  Dollars = 'dollars',
  /** Calls (request-count rate limits). */
  Requests = 'requests',
}
