import { proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { workflowTuning } from '../workflow-constants';
import { storageProbeStatusQuery, type StorageProbeStatus } from './storage-probe-messages';

export interface StorageProbeInput {
  bucket: string;
  /** Keeps the probe open this long between write and read-back: shows a probe surviving a server restart. */
  holdSeconds?: number;
}

export interface StorageProbeResult {
  bucket: string;
  key: string;
  bytes: number;
  verified: boolean;
}

const { writeProbeObject, verifyProbeObject } = proxyActivities<Activities>({
  startToCloseTimeout: workflowTuning.shortActivity.startToCloseTimeout,
  retry: workflowTuning.shortActivity.retry,
});

/** Writes a small object through a worker's storage client and reads it back. */
export async function storageProbeWorkflow(input: StorageProbeInput): Promise<StorageProbeResult> {
  let status: StorageProbeStatus = 'writing';
  setHandler(storageProbeStatusQuery, () => status);
  const { workflowId } = workflowInfo();
  const object = { bucket: input.bucket, key: `_probes/${workflowId}.json`, workflowId };
  try {
    const { bytes } = await writeProbeObject(object);
    if (input.holdSeconds && input.holdSeconds > 0) {
      status = 'holding';
      await sleep(input.holdSeconds * 1000);
    }
    status = 'verifying';
    const verified = await verifyProbeObject(object);
    status = verified ? 'completed' : 'failed';
    return { bucket: object.bucket, key: object.key, bytes, verified };
  } catch (err) {
    status = 'failed';
    throw err;
  }
}
