// A small line chart (uPlot) over training steps: one line per series, each with an optional dashed reference
// line in its colour (the dataset's value), and a legend that reads each series' latest value.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { TRACK_COLOURS } from "../music";

export interface Series {
  label: string;
  points: [number, number][];
  /** The dataset's own value, drawn as a dashed line. */
  reference?: number;
}

interface Props {
  title: string;
  series: Series[];
  widthPx?: number;
}

/** The series (then their references) on one shared x axis (their steps, merged), as uPlot wants; a missing
 * value is null. */
function align(series: Series[]): uPlot.AlignedData {
  const steps = [...new Set(series.flatMap((s) => s.points.map(([step]) => step)))].sort((a, b) => a - b);
  const columns = series.map((s) => {
    const byStep = new Map(s.points);
    return steps.map((step) => byStep.get(step) ?? null);
  });
  for (const s of series) if (s.reference !== undefined) columns.push(steps.map(() => s.reference ?? null));
  return [steps, ...columns] as uPlot.AlignedData;
}

/** A value in a legend: three significant digits, without an exponent for everyday sizes. */
export function formatValue(value: number): string {
  if (value === 0) return "0";
  const size = Math.abs(value);
  return size >= 0.001 && size < 1e5 ? String(Number(value.toPrecision(3))) : value.toExponential(2);
}

// Charts sit three or four to a row on a wide screen and one under another on a phone's.
const CHART_WIDTH_PX = 290;
const CHART_HEIGHT_PX = 150;
const PAGE_MARGINS_PX = 64;

const colour = (index: number) => TRACK_COLOURS[index % TRACK_COLOURS.length];

export function LineChart({
  title,
  series,
  widthPx = Math.min(CHART_WIDTH_PX, window.innerWidth - PAGE_MARGINS_PX),
}: Props) {
  const holder = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const shape = series.map((s) => `${s.label}:${s.reference !== undefined}`).join("|");

  useEffect(() => {
    if (!holder.current) return;
    const lines: uPlot.Series[] = series.map((s, index) => ({
      label: s.label,
      stroke: colour(index),
      width: 2,
      spanGaps: true,
    }));
    series.forEach((s, index) => {
      if (s.reference !== undefined)
        lines.push({ label: `${s.label} (data)`, stroke: colour(index), dash: [5, 4], width: 1 });
    });
    const options: uPlot.Options = {
      width: widthPx,
      height: CHART_HEIGHT_PX,
      // The legend below is the chart's own (latest values); uPlot's reads "--" until the pointer is over it.
      legend: { show: false },
      scales: { x: { time: false } },
      axes: [{ label: "step", labelSize: 18, size: 32 }, { size: 44 }],
      series: [{ label: "step" }, ...lines],
    };
    chart.current = new uPlot(options, align(series), holder.current);
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [shape, widthPx]);

  useEffect(() => {
    chart.current?.setData(align(series));
  });

  const points = series.reduce((sum, s) => sum + s.points.length, 0);
  return (
    <figure class="chart" data-title={title} data-points={points}>
      <figcaption>{title}</figcaption>
      <div ref={holder} />
      <ul class="chart-legend">
        {series.map((s, index) => {
          const latest = s.points.at(-1);
          return (
            <li key={s.label}>
              <span class="legend-swatch" style={{ background: colour(index) }} />
              {s.label} <b>{latest ? formatValue(latest[1]) : "no value yet"}</b>
              {s.reference !== undefined && <span class="help"> (data {formatValue(s.reference)})</span>}
            </li>
          );
        })}
      </ul>
    </figure>
  );
}
