package dev.nettyoffload.benchmarks.harness;

import dev.nettyoffload.benchmarks.harness.Report.Summary;
import dev.nettyoffload.core.Transport;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The report's SVG chart: one bar per configuration (median throughput with min-max whiskers), grouped by
 * network, then a panel of the headline ratios. Drawn from the {@link Report}'s summaries, so that chart and
 * table cannot disagree.
 */
final class ReportChart {
    private static final int SVG_WIDTH = 1000;
    private static final int LABEL_WIDTH = 330;
    private static final int BAR_AREA = 470;
    private static final int ROW = 22;

    private final Report report;

    ReportChart(Report report) {
        this.report = report;
    }

    /** A named ratio for the chart's second panel. */
    private static final class Ratio {
        final String label;
        final double value;

        Ratio(String label, double value) {
            this.label = label;
            this.value = value;
        }
    }

    /** Path 2 and path 3 over path 1, and Java over C, for every network and transport measured. */
    private List<Ratio> ratios() {
        List<Ratio> list = new ArrayList<>();
        for (String network : List.of("loopback", "veth")) {
            for (Transport t : Transport.values()) {
                Summary p1 = report.find(network, t, BenchPath.PLAIN);
                Summary p2 = report.find(network, t, BenchPath.GSO);
                Summary p3 = report.find(network, t, BenchPath.GSO_GRO);
                String prefix = network + " " + t + ": ";
                if (p1 != null && p2 != null) {
                    list.add(new Ratio(prefix + "path 2 / path 1", p2.gbps / p1.gbps));
                }
                if (p1 != null && p3 != null) {
                    list.add(new Ratio(prefix + "path 3 / path 1", p3.gbps / p1.gbps));
                }
                if (p3 != null && !Double.isNaN(report.overC(p3))) {
                    list.add(new Ratio(prefix + "path 3 / C3", report.overC(p3)));
                } else if (p2 != null && !Double.isNaN(report.overC(p2))) {
                    list.add(new Ratio(prefix + "path 2 / C2", report.overC(p2)));
                }
            }
        }
        return list;
    }

    String svg() {
        List<Summary> rows = new ArrayList<>();
        double max = 0;
        for (Summary s : report.summaries()) {
            if (s.runs > 0) {
                rows.add(s);
                max = Math.max(max, s.maxGbps);
            }
        }
        if (max <= 0) {
            max = 1;
        }
        List<String> networks = new ArrayList<>();
        for (Summary s : rows) {
            if (!networks.contains(s.config.network)) {
                networks.add(s.config.network);
            }
        }
        List<Ratio> ratios = ratios();
        double maxRatio = 1;
        for (Ratio r : ratios) {
            maxRatio = Math.max(maxRatio, r.value);
        }
        int height = 86 + rows.size() * ROW + networks.size() * 28 + 40
                + (ratios.isEmpty() ? 0 : 50 + ratios.size() * ROW);
        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(SVG_WIDTH).append("\" height=\"")
                .append(height).append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.append("<text x=\"10\" y=\"22\" font-size=\"16\" font-weight=\"bold\">")
                .append(xml("Received UDP payload, Gbit/s (median of " + report.options.runs
                        + " interleaved rounds; whiskers: min-max; xN: over path 1 / C1)"))
                .append("</text>\n");
        sb.append("<text x=\"10\" y=\"42\" fill=\"#555\">").append(xml(report.machine() + " | " + report.generated))
                .append("</text>\n");
        sb.append("<text x=\"10\" y=\"58\" fill=\"#555\">").append(xml(report.command())).append("</text>\n");
        int y = 78;
        for (String network : networks) {
            y += 22;
            sb.append("<text x=\"10\" y=\"").append(y).append("\" font-weight=\"bold\">").append(xml(network))
                    .append("</text>\n");
            y += 6;
            for (Summary s : rows) {
                if (!s.config.network.equals(network)) {
                    continue;
                }
                int barY = y;
                int w = (int) Math.round(s.gbps / max * BAR_AREA);
                int x0 = LABEL_WIDTH;
                sb.append("<text x=\"").append(LABEL_WIDTH - 8).append("\" y=\"").append(barY + 14)
                        .append("\" text-anchor=\"end\">")
                        .append(xml(s.config.transportName() + "  " + s.config.path.label + " "
                                + s.config.path.description)).append("</text>\n");
                sb.append("<rect x=\"").append(x0).append("\" y=\"").append(barY + 3).append("\" width=\"")
                        .append(Math.max(1, w)).append("\" height=\"").append(ROW - 6).append("\" fill=\"")
                        .append(color(s.config.path)).append("\"/>\n");
                int xMin = x0 + (int) Math.round(s.minGbps / max * BAR_AREA);
                int xMax = x0 + (int) Math.round(s.maxGbps / max * BAR_AREA);
                int mid = barY + ROW / 2;
                sb.append("<line x1=\"").append(xMin).append("\" y1=\"").append(mid).append("\" x2=\"")
                        .append(xMax).append("\" y2=\"").append(mid).append("\" stroke=\"#222\"/>\n");
                sb.append("<line x1=\"").append(xMin).append("\" y1=\"").append(mid - 4).append("\" x2=\"")
                        .append(xMin).append("\" y2=\"").append(mid + 4).append("\" stroke=\"#222\"/>\n");
                sb.append("<line x1=\"").append(xMax).append("\" y1=\"").append(mid - 4).append("\" x2=\"")
                        .append(xMax).append("\" y2=\"").append(mid + 4).append("\" stroke=\"#222\"/>\n");
                double r = report.overPath1(s);
                String label = Report.f2(s.gbps) + (Double.isNaN(r) ? "" : "  x" + String.format(Locale.ROOT, "%.1f", r));
                sb.append("<text x=\"").append(Math.max(x0 + w, xMax) + 6).append("\" y=\"").append(barY + 14)
                        .append("\">").append(xml(label)).append("</text>\n");
                y += ROW;
            }
        }
        if (!ratios.isEmpty()) {
            y += 34;
            sb.append("<text x=\"10\" y=\"").append(y).append("\" font-weight=\"bold\">")
                    .append("Ratios of medians (dashed line: 1x)</text>\n");
            y += 8;
            int one = LABEL_WIDTH + (int) Math.round(1 / maxRatio * BAR_AREA);
            // The 1x line first, so that bars and labels are drawn over it.
            sb.append("<line x1=\"").append(one).append("\" y1=\"").append(y).append("\" x2=\"").append(one)
                    .append("\" y2=\"").append(y + ratios.size() * ROW)
                    .append("\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n");
            for (Ratio r : ratios) {
                int w = (int) Math.round(r.value / maxRatio * BAR_AREA);
                sb.append("<text x=\"").append(LABEL_WIDTH - 8).append("\" y=\"").append(y + 14)
                        .append("\" text-anchor=\"end\">").append(xml(r.label)).append("</text>\n");
                sb.append("<rect x=\"").append(LABEL_WIDTH).append("\" y=\"").append(y + 3).append("\" width=\"")
                        .append(Math.max(1, w)).append("\" height=\"").append(ROW - 6).append("\" fill=\"")
                        .append(r.label.contains("/ C") ? "#e65100" : "#1565c0").append("\"/>\n");
                sb.append("<text x=\"").append(LABEL_WIDTH + w + 6).append("\" y=\"").append(y + 14).append("\">")
                        .append(xml(Report.ratio(r.value))).append("</text>\n");
                y += ROW;
            }
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    private static String color(BenchPath p) {
        switch (p) {
            case PLAIN:
                return "#9e9e9e";
            case GSO:
                return "#64b5f6";
            case GSO_GRO:
                return "#1565c0";
            case C_MMSG:
                return "#ffcc80";
            case C_GSO:
                return "#ffa726";
            default:
                return "#e65100";
        }
    }

    private static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
