// archiver 8 ships ESM without type declarations; this is the part of its API the export uses
// (https://www.archiverjs.com/docs/archiver). Node 20.19+ loads it through require(esm).
declare module 'archiver' {
  import type { Transform } from 'node:stream';
  import type { ZlibOptions } from 'node:zlib';

  export interface ZipArchiveOptions {
    zlib?: ZlibOptions;
    store?: boolean;
    forceZip64?: boolean;
    comment?: string;
  }

  export interface EntryData {
    name: string;
    date?: Date | string;
    mode?: number;
    store?: boolean;
  }

  export class ZipArchive extends Transform {
    constructor(options?: ZipArchiveOptions);
    append(source: Buffer | string | NodeJS.ReadableStream, data: EntryData): this;
    finalize(): Promise<void>;
    abort(): this;
    pointer(): number;
  }
}
