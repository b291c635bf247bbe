import { readFile } from 'node:fs/promises';

import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';

import type { AwsCaller } from '../aws/clients';

/** Where the fault document is read from. `undefined` means there is no document (no faults). */
export interface FaultSource {
  readonly description: string;
  read(): Promise<string | undefined>;
}

/** The local game day writes the document to a file. A missing file means no faults. */
export class FileFaultSource implements FaultSource {
  readonly description: string;

  constructor(private readonly path: string) {
    this.description = `file ${path}`;
  }

  async read(): Promise<string | undefined> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

/** In AWS the chaos functions write the document to an SSM parameter. A missing one means no faults. */
export class SsmFaultSource implements FaultSource {
  readonly description: string;

  constructor(
    private readonly client: SSMClient,
    private readonly name: string,
    private readonly caller: AwsCaller,
  ) {
    this.description = `SSM parameter ${name}`;
  }

  async read(): Promise<string | undefined> {
    try {
      const output = await this.caller.call(
        'GetParameter',
        (abortSignal) =>
          this.client.send(new GetParameterCommand({ Name: this.name }), { abortSignal }),
        (error) => error instanceof ParameterNotFound,
      );
      return output.Parameter?.Value;
    } catch (error) {
      if (error instanceof ParameterNotFound) return undefined;
      throw error;
    }
  }
}
