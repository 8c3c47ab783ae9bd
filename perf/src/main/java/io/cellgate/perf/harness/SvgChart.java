package io.cellgate.perf.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A line chart as a standalone SVG file: one line per series, linear or log10 y axis, x values
 * placed by their index (categories such as percentiles) or by value. Enough for the reports; no
 * library needed to view them (a browser or the repository host renders SVG).
 */
public final class SvgChart {
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"};
    private static final int W = 720;
    private static final int H = 420;
    private static final int LEFT = 70;
    private static final int RIGHT = 160;
    private static final int TOP = 40;
    private static final int BOTTOM = 60;

    private record Series(String name, double[] x, double[] y) {
    }

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final boolean logY;
    private final List<Series> series = new ArrayList<>();
    private String[] categories;

    public SvgChart(String title, String xLabel, String yLabel, boolean logY) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.logY = logY;
    }

    /** Places x at evenly spaced categories with these labels (series x values are then indexes). */
    public SvgChart categories(String... labels) {
        this.categories = labels;
        return this;
    }

    public SvgChart series(String name, double[] x, double[] y) {
        series.add(new Series(name, x, y));
        return this;
    }

    public String render() {
        double minX = Double.MAX_VALUE;
        double maxX = -Double.MAX_VALUE;
        double minY = Double.MAX_VALUE;
        double maxY = -Double.MAX_VALUE;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                minX = Math.min(minX, s.x[i]);
                maxX = Math.max(maxX, s.x[i]);
                minY = Math.min(minY, s.y[i]);
                maxY = Math.max(maxY, s.y[i]);
            }
        }
        if (categories != null) {
            minX = 0;
            maxX = Math.max(1, categories.length - 1);
        }
        if (logY) {
            minY = Math.pow(10, Math.floor(Math.log10(Math.max(minY, 1e-3))));
            maxY = Math.pow(10, Math.ceil(Math.log10(Math.max(maxY, minY * 10))));
        } else {
            minY = Math.min(0, minY);
            maxY = maxY <= minY ? minY + 1 : maxY * 1.1;
        }
        if (maxX <= minX) {
            maxX = minX + 1;
        }
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">%n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n", W, H));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"15\">%s</text>%n", LEFT, esc(title)));
        int plotW = W - LEFT - RIGHT;
        int plotH = H - TOP - BOTTOM;
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>%n",
                LEFT, TOP, plotW, plotH));
        // Y grid and labels.
        List<Double> ticks = new ArrayList<>();
        if (logY) {
            for (double v = minY; v <= maxY * 1.0001; v *= 10) {
                ticks.add(v);
            }
        } else {
            for (int i = 0; i <= 5; i++) {
                ticks.add(minY + (maxY - minY) * i / 5);
            }
        }
        for (double v : ticks) {
            double y = py(v, minY, maxY, plotH);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT, y, LEFT + plotW, y, LEFT - 6, y + 4, num(v)));
        }
        // X labels.
        if (categories != null) {
            for (int i = 0; i < categories.length; i++) {
                double x = px(i, minX, maxX, plotW);
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x,
                        TOP + plotH + 18, esc(categories[i])));
            }
        } else {
            for (int i = 0; i <= 5; i++) {
                double v = minX + (maxX - minX) * i / 5;
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                        px(v, minX, maxX, plotW), TOP + plotH + 18, num(v)));
            }
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", LEFT + plotW / 2, H - 18,
                esc(xLabel)));
        svg.append(String.format(Locale.ROOT, "<text x=\"16\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 16 %d)\">%s</text>%n",
                TOP + plotH / 2, TOP + plotH / 2, esc(yLabel)));
        for (int s = 0; s < series.size(); s++) {
            Series line = series.get(s);
            String color = COLORS[s % COLORS.length];
            StringBuilder points = new StringBuilder();
            for (int i = 0; i < line.x.length; i++) {
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", px(line.x[i], minX, maxX, plotW),
                        py(line.y[i], minY, maxY, plotH)));
            }
            svg.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n", color,
                    points.toString().trim()));
            for (int i = 0; i < line.x.length; i++) {
                svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>%n",
                        px(line.x[i], minX, maxX, plotW), py(line.y[i], minY, maxY, plotH), color));
            }
            int ly = TOP + 16 + s * 18;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
                    + "<text x=\"%d\" y=\"%d\">%s</text>%n", W - RIGHT + 10, ly, W - RIGHT + 30, ly, color, W - RIGHT + 36, ly + 4,
                    esc(line.name)));
        }
        svg.append("</svg>\n");
        return svg.toString();
    }

    private double px(double x, double minX, double maxX, int plotW) {
        return LEFT + (x - minX) / (maxX - minX) * plotW;
    }

    private double py(double y, double minY, double maxY, int plotH) {
        double f = logY ? (Math.log10(Math.max(y, minY)) - Math.log10(minY)) / (Math.log10(maxY) - Math.log10(minY))
                : (y - minY) / (maxY - minY);
        return TOP + plotH - f * plotH;
    }

    private static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e7) {
            return String.format(Locale.ROOT, "%,d", (long) v);
        }
        return Math.abs(v) >= 1 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.3g", v);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
