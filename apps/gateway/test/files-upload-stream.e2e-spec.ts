// A batch input file streamed through the all-in-one gateway (purpose before the file, as
// curl -F and the Python SDK send it) to its OpenAI backend, the file's lines checked and
// renamed as they arrive; AI_GATEWAY_MAX_FILE_BYTES bounds it, AI_GATEWAY_MAX_BODY_BYTES
// (far smaller) every other body. A file sent before its purpose waits on disk and is
// then read as one sent after it. The cases are the split deployment's too
// (apps/ingress/test/split-upload-stream).
import { describeStreamedBatchUploads } from '@aigw/testing/fake-provider';

describeStreamedBatchUploads(
  'all-in-one gateway: a batch upload streamed to its backend',
  'all-in-one',
);
