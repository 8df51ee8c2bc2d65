// Which points of a chart's line to draw as dots. uPlot draws a series' points only where they are
// sparse enough to tell apart; elsewhere it draws just the line, so a bucket with readings between
// two empty ones (a device that sent once, or came back for a moment) would not show at all. Those
// lone values are always drawn.

// The indices of values that are present while both neighbours are absent (null or undefined,
// or the ends of the data).
export function isolatedPoints(values: readonly (number | null | undefined)[]): number[] {
  const present = (i: number) => i >= 0 && i < values.length && values[i] !== null && values[i] !== undefined;
  const isolated: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (present(i) && !present(i - 1) && !present(i + 1)) isolated.push(i);
  }
  return isolated;
}
