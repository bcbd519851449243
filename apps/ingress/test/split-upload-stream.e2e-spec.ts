// A batch input file streamed through the split deployment (ingress, router and
// provider-adapter as three processes): the ingress checks and renames its lines as they
// arrive and each internal hop passes the form's bytes on raw as they come
// (/wire/held-object/upload), so no service holds the file; a bad line's cut reaches the
// backend through both hops. AI_GATEWAY_MAX_BODY_BYTES is below the file, and below what
// each hop's wire body limit is made of. The cases are the all-in-one gateway's too
// (apps/gateway/test/files-upload-stream).
import { describeStreamedBatchUploads } from '@aigw/testing/fake-provider';

describeStreamedBatchUploads('split deployment: a batch upload streamed across the hops', 'split');
