// What the Quality page's report shows: its groupings, its columns (with what each figure means, docs/quality.md),
// how a figure is written, and how rows sort.
import type { QualityGrouping, QualityRow } from '../api';

export const groupings: readonly (readonly [QualityGrouping, string])[] = [
  ['annotator', 'annotator'], ['label', 'label'], ['image', 'image'], ['guideline-version', 'guideline version'],
];

export type Column = 'key' | 'images' | 'tp' | 'fp' | 'fn' | 'precision' | 'recall' | 'f1' | 'accuracy' | 'meanIoU';

export const columns: readonly (readonly [Column, string, string])[] = [
  ['images', 'Images', 'Images with ground truth this row covers'],
  ['tp', 'TP', 'True positives: submitted shapes matched to a ground-truth shape of the same label at IoU ≥ τ'],
  ['fp', 'FP', 'False positives: submitted shapes that matched nothing'],
  ['fn', 'FN', 'False negatives: ground-truth shapes nobody matched'],
  ['precision', 'Precision', 'TP / (TP + FP)'],
  ['recall', 'Recall', 'TP / (TP + FN)'],
  ['f1', 'F1', '2 · precision · recall / (precision + recall)'],
  ['accuracy', 'Accuracy', 'TP / (TP + FP + FN)'],
  ['meanIoU', 'Mean IoU', 'The mean IoU of the matched pairs'],
];

export const fig = (x: number) => x.toFixed(3);

/** A label's row whose F1 is under the label's requirement (shown red). */
export const below = (r: QualityRow) => r.requiredF1 != null && r.f1 < r.requiredF1;

export interface Sort { column: Column; descending: boolean }

/** The rows in the chosen order; without one, images worst first and the rest as the report has them (by name). */
export function sortRows(rows: readonly QualityRow[], groupBy: QualityGrouping, sort: Sort | undefined, name: (r: QualityRow) => string): QualityRow[] {
  const sorted = [...rows];
  const s = sort ?? (groupBy === 'image' ? { column: 'f1' as Column, descending: false } : undefined);
  if (!s) return sorted;
  const value = (r: QualityRow) => (s.column === 'key' ? name(r) : r[s.column]);
  return sorted.sort((a, b) => {
    const va = value(a), vb = value(b);
    const c = typeof va === 'string' ? va.localeCompare(vb as string) : (va as number) - (vb as number);
    return s.descending ? -c : c;
  });
}
