// Sample items of the printer's documents shared by the layout and encoder tests.
import type { TableItem } from '../../drivers/printer/document.js';

/** A form's table: a bold header row, a rare character (䶮), and an address that only fits shrunk. */
export const SAMPLE_TABLE: TableItem = {
  type: 'table',
  xMm: 20,
  yMm: 40,
  columnsMm: [30, 60],
  rowHeightMm: 8,
  rows: [
    ['项目', '内容'],
    ['姓名', '王䶮'],
    ['Address', '河北省保定市某某县某某镇某某村幸福路88号'],
  ],
  sizePt: 10.5,
  boldFirstRow: true,
  borders: true,
  thicknessMm: 0.3,
  paddingMm: 1,
  overflow: 'shrink',
};
