import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

/**
 * Successes and failures per hour as bars (uPlot, drawn on a canvas). The same figures
 * are in a table beside it for screen readers and keyboard users.
 */
export function HourlyChart({ hours, succeeded, failed }: { hours: number[]; succeeded: number[]; failed: number[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = () => Math.max(260, Math.min(element.clientWidth || 600, 900));
    const bars = uPlot.paths.bars!({ size: [0.4, 40], gap: 1 });
    const options: uPlot.Options = {
      width: width(),
      height: 200,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { label: 'attempts', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }],
      series: [
        {},
        { label: 'Succeeded', stroke: '#15803d', fill: 'rgba(21,128,61,0.6)', paths: bars, points: { show: false } },
        { label: 'Failed', stroke: '#b91c1c', fill: 'rgba(185,28,28,0.6)', paths: bars, points: { show: false } },
      ],
    };
    plot.current = new uPlot(options, [hours.map((h) => h / 1000), succeeded, failed], element);
    const resize = () => plot.current?.setSize({ width: width(), height: 200 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = null;
    };
    // Created once; data changes go through setData below.
  }, []);

  useEffect(() => {
    plot.current?.setData([hours.map((h) => h / 1000), succeeded, failed]);
  }, [hours, succeeded, failed]);

  return <div ref={box} className="chart" aria-hidden="true" />;
}
