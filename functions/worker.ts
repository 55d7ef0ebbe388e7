// Azure Functions entry point for the work queue: each message is one step of a long action.
// A thrown error leaves the message for the host to retry; after maxDequeueCount (host.json) it goes
// to the poison queue, as the local dispatcher also does.
import { app } from '@azure/functions';
import { services } from '../shared/services';
import { decodeItem } from '../shared/work/queue';
import { runWorkItem } from '../shared/work/engine';

app.storageQueue('work', {
  queueName: '%JACKET_WORK_QUEUE%',
  connection: 'JACKET_STORAGE', // a connection string, or JACKET_STORAGE__accountName (identity-based)
  handler: async (message) => {
    await runWorkItem(decodeItem(message), services());
  },
});
