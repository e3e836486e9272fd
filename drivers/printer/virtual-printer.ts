// The paper side of the printer simulator: decodes whatever bytes arrive, keeps the printed pages (and
// writes them as PNG files when given a directory), and logs each job it started and finished. A job starts
// at ESC @ and is complete at the form feed that ends it.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EscpDecoder, type DecodedPage } from './decoder.js';
import { setupFonts, type PrinterSetup } from './forms.js';
import { renderPreviewPng } from './preview.js';

export interface PrintedJobLog {
  job: number;
  startedAt: string;
  bytes: number;
  pages: number;
  /** Whether the last page of the job was ejected (no bytes after its final form feed). */
  ended: boolean;
}

export interface VirtualPrinterOptions {
  setup: PrinterSetup;
  widthDots: number;
  /** Where to write `page-N.png` and `jobs.jsonl` (the log survives the process, for crash tests). */
  outputDir?: string;
  /**
   * How many decoded pages `pages` keeps (default 50). A page is a full-resolution bitmap (an A4 page is
   * about 3 MB), so a simulator left printing all day must not keep every one.
   */
  keepPages?: number;
  /** Called with every page as it is ejected, kept or not. */
  onPage?: (page: DecodedPage) => void;
}

export class VirtualPrinter {
  /** The most recent pages (at most `keepPages`), oldest first. */
  readonly pages: DecodedPage[] = [];
  readonly jobs: PrintedJobLog[] = [];
  bytesReceived = 0;
  /** Every page ejected since the start, including those no longer kept in `pages`. */
  pagesPrinted = 0;
  private decoder: EscpDecoder;
  private pngWrites: Promise<void> = Promise.resolve();

  constructor(private readonly opts: VirtualPrinterOptions) {
    if (opts.outputDir) mkdirSync(opts.outputDir, { recursive: true });
    this.decoder = new EscpDecoder(
      { profile: opts.setup.profile, widthDots: opts.widthDots },
      (page) => this.pagePrinted(page),
      () => this.jobStarted(),
    );
  }

  accept(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    const job = this.jobs.at(-1);
    if (job) {
      job.bytes += chunk.length;
      job.ended = false;
    }
    this.decoder.push(chunk);
  }

  /** Resolves when every page PNG so far is on disk. */
  flushed(): Promise<void> {
    return this.pngWrites;
  }

  private jobStarted(): void {
    const job: PrintedJobLog = {
      job: this.jobs.length + 1,
      startedAt: new Date().toISOString(),
      bytes: 0,
      pages: 0,
      ended: false,
    };
    this.jobs.push(job);
    this.log({ event: 'started', ...job });
  }

  private pagePrinted(page: DecodedPage): void {
    this.pages.push(page);
    if (this.pages.length > (this.opts.keepPages ?? 50)) this.pages.shift();
    const n = ++this.pagesPrinted;
    this.opts.onPage?.(page);
    const job = this.jobs.at(-1);
    if (job) {
      job.pages++;
      job.ended = true;
      this.log({ event: 'page', ...job });
    }
    const dir = this.opts.outputDir;
    if (!dir) return;
    this.pngWrites = this.pngWrites.then(async () => {
      const { writeFile } = await import('node:fs/promises');
      const png = await renderPreviewPng(page, setupFonts(this.opts.setup), page);
      await writeFile(join(dir, `page-${n}.png`), png);
    });
  }

  private log(entry: Record<string, unknown>): void {
    // Synchronous on purpose: the log must show what was printed even if the process is killed right after.
    if (this.opts.outputDir)
      appendFileSync(join(this.opts.outputDir, 'jobs.jsonl'), JSON.stringify(entry) + '\n');
  }
}
