// A small line chart (uPlot) over training steps, with an optional dashed reference line (the dataset's value).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { TRACK_COLOURS } from "../music";

export interface Series {
  label: string;
  points: [number, number][];
}

interface Props {
  title: string;
  series: Series[];
  reference?: number;
  widthPx?: number;
}

/** The series on one shared x axis (their steps, merged), as uPlot wants; a missing value is null. */
function align(series: Series[], reference?: number): uPlot.AlignedData {
  const steps = [...new Set(series.flatMap((s) => s.points.map(([step]) => step)))].sort((a, b) => a - b);
  const columns = series.map((s) => {
    const byStep = new Map(s.points);
    return steps.map((step) => byStep.get(step) ?? null);
  });
  if (reference !== undefined) columns.push(steps.map(() => reference));
  return [steps, ...columns] as uPlot.AlignedData;
}

// Charts sit side by side on a wide screen and one under another on a phone's.
const CHART_WIDTH_PX = 380;
const PAGE_MARGINS_PX = 64;

export function LineChart({
  title,
  series,
  reference,
  widthPx = Math.min(CHART_WIDTH_PX, window.innerWidth - PAGE_MARGINS_PX),
}: Props) {
  const holder = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const shape = `${series.map((s) => s.label).join("|")}|${reference !== undefined}`;

  useEffect(() => {
    if (!holder.current) return;
    const lines: uPlot.Series[] = series.map((s, index) => ({
      label: s.label,
      stroke: TRACK_COLOURS[index % TRACK_COLOURS.length],
      width: 2,
      spanGaps: true,
    }));
    if (reference !== undefined) lines.push({ label: "dataset", stroke: "#555", dash: [6, 4], width: 1.5 });
    const options: uPlot.Options = {
      title,
      width: widthPx,
      height: 200,
      scales: { x: { time: false } },
      axes: [{ label: "step" }, {}],
      series: [{ label: "step" }, ...lines],
    };
    chart.current = new uPlot(options, align(series, reference), holder.current);
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [shape, title, widthPx]);

  useEffect(() => {
    chart.current?.setData(align(series, reference));
  });

  const points = series.reduce((sum, s) => sum + s.points.length, 0);
  return <div class="chart" ref={holder} data-title={title} data-points={points} />;
}
