package dev.nettyoffload.benchmarks;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packet engine against DPDK: builds {@code dpdkbench} (src/main/c/dpdkbench.c, packaged in the jar) with gcc
 * and pkg-config's libdpdk flags, then runs it and the Java workers ({@link PacketEngineWorker}) in interleaved
 * rounds (C, then every JVM, then C again ...), and writes the medians over the rounds with min-max and the
 * Java / C ratios to {@code packet-engine-comparison.md} in the report directory.
 * <p>
 * The JVMs: {@code clean} (pooled direct buffers only, leak detection disabled, the JVM's default checksum
 * kernel), {@code nio} (the same with the NIO checksum kernel), {@code mixed} (every buffer class exercised
 * first), {@code default-leak} (clean, at Netty's default leak detection level), {@code mixed default leak}
 * (both: what an application's JVM sees) and, when a JDK 22+ is found, {@code clean}, {@code mixed} and
 * {@code mixed default leak} on it with the Vector API and native access enabled (the multi-release checksum
 * kernel). Figures are ns of the measuring thread's CPU time, the best batch of each round, so that
 * other load on a shared machine counts as little as possible; the load average is recorded.
 * <p>
 * Usage: {@code java -cp netty-offload-benchmarks.jar dev.nettyoffload.benchmarks.PacketEngineComparison
 * [--rounds 5] [--seconds 1.0] [--c-ms 300] [--tiny] [--jdk22 PATH] [--out benchmarks/target/report]}.
 * Without gcc, pkg-config or libdpdk the C column is skipped with a message.
 */
public final class PacketEngineComparison {
    static final String C_SOURCE = "/c/dpdkbench.c";
    static final String[] FIGURES = {"cksum", "cksum_legacy", "gso_full", "gso_partial", "gro1", "gro16",
        "gso_full_block", "gso_partial_block", "gro1_inplace", "gro16_inplace"};
    private static final String[] C_KEYS = {"cksum", null, "gso_full", "gso_partial", "gro1_ck", "gro16_ck",
        "gso_full", "gso_partial", "gro1_ck", "gro16_ck"};
    private static final String[] DESCRIPTIONS = {
        "checksum of 1448 bytes, ns/call",
        "checksum, previous getLongLE loop, ns/call (C: rte_raw_cksum)",
        "GSO 64 KiB TCPv4 -> 44 x 1448, IPv4 + TCP checksums, ns/segment",
        "GSO 64 KiB TCPv4 -> 44 x 1448, no L4 checksum, ns/segment",
        "GRO 720 x 1448 TCPv4, 1 flow, checksums validated, ns/packet",
        "GRO 720 x 1448 TCPv4, 16 flows, checksums validated, ns/packet",
        "GSO full checksums as above, into one block (segmentBlock, the USO sender's form), ns/segment",
        "GSO no L4 checksum as above, into one block (segmentBlock), ns/segment",
        "GRO as above, 1 flow, packets read in place by PacketCoalescer (no pipeline), ns/packet",
        "GRO as above, 16 flows, packets read in place by PacketCoalescer (no pipeline), ns/packet"};

    /** Options; public fields for the test. */
    static final class Options {
        int rounds = 5;
        double seconds = 1.0;
        int cMillis = 300;
        Path out = Paths.get("benchmarks", "target", "report");
        String jdk22 = System.getenv().getOrDefault("OFFLOAD_JDK25", "/usr/lib/jvm/temurin-25-jdk-amd64");
        String classPath = System.getProperty("java.class.path");
        int timeoutSeconds = 600;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--rounds":
                        o.rounds = Integer.parseInt(args[++i]);
                        break;
                    case "--seconds":
                        o.seconds = Double.parseDouble(args[++i]);
                        break;
                    case "--c-ms":
                        o.cMillis = Integer.parseInt(args[++i]);
                        break;
                    case "--out":
                        o.out = Paths.get(args[++i]);
                        break;
                    case "--jdk22":
                        o.jdk22 = args[++i];
                        break;
                    case "--tiny":
                        o.rounds = 1;
                        o.seconds = 0.05;
                        o.cMillis = 10;
                        break;
                    default:
                        throw new IllegalArgumentException("unknown option " + a + " (see the class comment)");
                }
            }
            return o;
        }
    }

    /** One JVM configuration. */
    static final class Jvm {
        final String name;
        final List<String> command;

        Jvm(String name, List<String> command) {
            this.name = name;
            this.command = command;
        }
    }

    /** What a run produced: per column, per key, one value per round. */
    static final class Result {
        final Map<String, Map<String, List<Double>>> columns = new LinkedHashMap<>();
        final Map<String, String> notes = new LinkedHashMap<>();
        /** Per column, its text values (JDK, kernel, leak level, DPDK version) from the first round. */
        final Map<String, Map<String, String>> labels = new LinkedHashMap<>();
        String cSkipped;
        String report;
    }

    private PacketEngineComparison() {
    }

    public static void main(String[] args) throws Exception {
        Result r = run(Options.parse(args));
        System.out.println(r.report);
    }

    /** Why the C reference cannot be built here, or {@code null}. */
    static String cUnavailability() {
        if (!onPath("gcc")) {
            return "gcc not found (apt-get install gcc)";
        }
        if (!onPath("pkg-config")) {
            return "pkg-config not found (apt-get install pkg-config)";
        }
        Exec e = exec(List.of("pkg-config", "--exists", "libdpdk"), 30);
        if (e.code != 0) {
            return "libdpdk not found by pkg-config (apt-get install libdpdk-dev)";
        }
        if (PacketEngineComparison.class.getResource(C_SOURCE) == null) {
            return C_SOURCE + " is missing from the class path";
        }
        return null;
    }

    static Result run(Options o) throws IOException, InterruptedException {
        Files.createDirectories(o.out);
        Result result = new Result();
        result.cSkipped = cUnavailability();
        Path binary = null;
        if (result.cSkipped == null) {
            binary = buildC(o.out.resolve("dpdkbench"));
        } else {
            System.err.println("skipped: the DPDK C reference: " + result.cSkipped);
        }
        List<Jvm> jvms = jvms(o, result);
        result.notes.put("load before", loadAverage());
        for (int round = 1; round <= o.rounds; round++) {
            if (binary != null) {
                List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--no-huge", "--no-pci", "--no-shconf",
                        "--no-telemetry", "-l", "0", "-m", "256", "--log-level=error", "--",
                        Integer.toString(o.cMillis)));
                collect(result, "C (DPDK)", cmd, o, round);
            }
            for (Jvm j : jvms) {
                collect(result, j.name, j.command, o, round);
            }
            System.err.printf(Locale.ROOT, "round %d/%d done, load %s%n", round, o.rounds, loadAverage());
        }
        result.notes.put("load after", loadAverage());
        result.report = report(result, o);
        Files.writeString(o.out.resolve("packet-engine-comparison.md"), result.report, StandardCharsets.UTF_8);
        return result;
    }

    private static List<Jvm> jvms(Options o, Result result) {
        String java17 = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<String> base = List.of("-Dio.netty.allocator.useCacheForAllThreads=true");
        String quiet = "-Dio.netty.leakDetection.level=disabled";
        String worker = PacketEngineWorker.class.getName();
        String seconds = Double.toString(o.seconds);
        List<Jvm> jvms = new ArrayList<>();
        int feature = Runtime.version().feature();
        jvms.add(new Jvm("Java " + feature + " clean", concat(java17, base, List.of(quiet, "-cp", o.classPath, worker,
                "clean", seconds))));
        jvms.add(new Jvm("Java " + feature + " nio kernel", concat(java17, base, List.of(quiet,
                "-Ddev.nettyoffload.checksum.kernel=nio", "-cp", o.classPath, worker, "clean", seconds))));
        jvms.add(new Jvm("Java " + feature + " mixed", concat(java17, base, List.of(quiet, "-cp", o.classPath, worker,
                "mixed", seconds))));
        jvms.add(new Jvm("Java " + feature + " default leak", concat(java17, base, List.of("-cp", o.classPath, worker,
                "clean", seconds))));
        // The targets hold for an application's JVM: every buffer class seen, leak detection at its default.
        jvms.add(new Jvm("Java " + feature + " mixed default leak", concat(java17, base, List.of("-cp", o.classPath,
                worker, "mixed", seconds))));
        Path jdk = Paths.get(o.jdk22, "bin", "java");
        if (feature < 22 && Files.isExecutable(jdk)) {
            String mr = multiReleaseClassPath(o.classPath, 22);
            List<String> newerLeak = List.of("--add-modules", "jdk.incubator.vector",
                    "--enable-native-access=ALL-UNNAMED", "-cp", mr, worker);
            List<String> newer = concat(quiet, newerLeak, List.of());
            String v = jdkFeature(jdk);
            jvms.add(new Jvm("Java " + v + " clean", concat(jdk.toString(), base, concat(null, newer,
                    List.of("clean", seconds)))));
            jvms.add(new Jvm("Java " + v + " mixed", concat(jdk.toString(), base, concat(null, newer,
                    List.of("mixed", seconds)))));
            jvms.add(new Jvm("Java " + v + " mixed default leak", concat(jdk.toString(), base, concat(null, newerLeak,
                    List.of("mixed", seconds)))));
        } else if (feature < 22) {
            result.notes.put("JDK 22+", "not found at " + o.jdk22 + " (--jdk22 PATH): no Java 22+ columns");
        }
        return jvms;
    }

    private static String jdkFeature(Path java) {
        Exec e = exec(List.of(java.toString(), "-XshowSettings:properties", "-version"), 60);
        for (String line : e.output.split("\n")) {
            String t = line.trim();
            if (t.startsWith("java.specification.version = ")) {
                return t.substring("java.specification.version = ".length());
            }
        }
        return "22+";
    }

    /**
     * Directories on a class path do not apply multi-release rules: put each directory's
     * META-INF/versions/N (N from 9 up to {@code feature}) in front of it, newest first. Jars are left alone.
     */
    static String multiReleaseClassPath(String classPath, int feature) {
        List<String> out = new ArrayList<>();
        for (String entry : classPath.split(File.pathSeparator)) {
            Path p = Paths.get(entry);
            if (Files.isDirectory(p)) {
                for (int v = feature; v >= 9; v--) {
                    Path versioned = p.resolve("META-INF").resolve("versions").resolve(Integer.toString(v));
                    if (Files.isDirectory(versioned)) {
                        out.add(versioned.toString());
                    }
                }
            }
            out.add(entry);
        }
        return String.join(File.pathSeparator, out);
    }

    private static List<String> concat(String first, List<String> a, List<String> b) {
        List<String> l = new ArrayList<>();
        if (first != null) {
            l.add(first);
        }
        l.addAll(a);
        l.addAll(b);
        return l;
    }

    private static Path buildC(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path source = dir.resolve("dpdkbench.c");
        try (InputStream in = PacketEngineComparison.class.getResourceAsStream(C_SOURCE)) {
            Files.copy(in, source, StandardCopyOption.REPLACE_EXISTING);
        }
        Exec flags = exec(List.of("pkg-config", "--cflags", "--libs", "libdpdk"), 30);
        if (flags.code != 0) {
            throw new IOException("pkg-config --cflags --libs libdpdk failed: " + flags.output);
        }
        Path binary = dir.resolve("dpdkbench");
        List<String> cmd = new ArrayList<>(List.of("gcc", "-O3", "-Wall", "-DALLOW_EXPERIMENTAL_API", "-o",
                binary.toString(), source.toString()));
        cmd.addAll(Arrays.asList(flags.output.trim().split("\\s+")));
        Exec gcc = exec(cmd, 300);
        if (gcc.code != 0) {
            throw new IOException("gcc failed to build " + source + ": " + gcc.output);
        }
        return binary;
    }

    private static void collect(Result result, String column, List<String> command, Options o, int round)
            throws IOException {
        Exec e = exec(command, o.timeoutSeconds);
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : e.output.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0 && line.substring(0, eq).matches("[A-Za-z0-9_]+")) {
                kv.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
        if (e.code != 0 || !"1".equals(kv.get("ok"))) {
            throw new IOException(column + " failed (exit " + e.code + "): " + String.join(" ", command) + "\n"
                    + e.output);
        }
        Map<String, List<Double>> col = result.columns.computeIfAbsent(column, k -> new LinkedHashMap<>());
        for (Map.Entry<String, String> entry : kv.entrySet()) {
            try {
                col.computeIfAbsent(entry.getKey(), k -> new ArrayList<>()).add(Double.parseDouble(entry.getValue()));
            } catch (NumberFormatException notANumber) {
                result.labels.computeIfAbsent(column, k -> new LinkedHashMap<>()).put(entry.getKey(), entry.getValue());
            }
        }
        if (round == 1 && e.output.contains("LEAK:")) {
            result.notes.put(column + " leak", "Netty reported a leak");
        }
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = a.length;
        return n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
    }

    private static String cell(List<Double> v) {
        if (v == null || v.isEmpty()) {
            return "-";
        }
        double min = v.stream().mapToDouble(Double::doubleValue).min().orElse(0);
        double max = v.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        return v.size() == 1 ? fmt(median(v)) : fmt(median(v)) + " (" + fmt(min) + "-" + fmt(max) + ")";
    }

    private static String fmt(double d) {
        return d >= 100 ? String.format(Locale.ROOT, "%.0f", d) : String.format(Locale.ROOT, "%.1f", d);
    }

    private static String report(Result r, Options o) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Packet engine vs DPDK\n\n");
        sb.append(String.format(Locale.ROOT, "ns of thread CPU time per unit: median of %d interleaved rounds "
                + "(min-max), each round's figure the best batch of %.2f s (Java, after a third of it as warm-up; "
                + "GRO after %d times that budget more) or %d ms (C).%n%n", o.rounds, o.seconds,
                PacketEngineWorker.GRO_EXTRA_WARM_UP, o.cMillis));
        List<String> cols = new ArrayList<>(r.columns.keySet());
        sb.append("| figure |");
        for (String c : cols) {
            sb.append(' ').append(c).append(" |");
        }
        sb.append("\n| --- |");
        for (int i = 0; i < cols.size(); i++) {
            sb.append(" ---: |");
        }
        sb.append('\n');
        for (int f = 0; f < FIGURES.length; f++) {
            sb.append("| ").append(DESCRIPTIONS[f]).append(" |");
            for (String c : cols) {
                String key = c.startsWith("C ") ? C_KEYS[f] : FIGURES[f];
                if (c.startsWith("C ") && f == 1) {
                    key = "cksum";
                }
                sb.append(' ').append(key == null ? "-" : cell(r.columns.get(c).get(key))).append(" |");
            }
            sb.append('\n');
        }
        for (String label : new String[] {"java", "kernel", "leak", "dpdk"}) {
            sb.append("| ").append(label).append(" |");
            for (String col : cols) {
                String v = r.labels.getOrDefault(col, Map.of()).get(label);
                sb.append(' ').append(v == null ? "" : v).append(" |");
            }
            sb.append('\n');
        }
        Map<String, List<Double>> c = r.columns.get("C (DPDK)");
        if (c != null) {
            sb.append("\nC only: GRO without checksum validation, 1 flow ").append(cell(c.get("gro1")))
                    .append(", 16 flows ").append(cell(c.get("gro16"))).append(" ns/packet; allocating and filling "
                    + "the input mbufs (excluded above) ").append(cell(c.get("gro_prepare"))).append(" ns/packet.\n");
            sb.append("\n## Java / C (medians)\n\n| figure |");
            List<String> javaCols = new ArrayList<>(cols);
            javaCols.remove("C (DPDK)");
            for (String j : javaCols) {
                sb.append(' ').append(j).append(" |");
            }
            sb.append("\n| --- |");
            for (int i = 0; i < javaCols.size(); i++) {
                sb.append(" ---: |");
            }
            sb.append('\n');
            for (int f = 0; f < FIGURES.length; f++) {
                List<Double> cv = c.get(C_KEYS[f] == null ? "cksum" : C_KEYS[f]);
                sb.append("| ").append(FIGURES[f]).append(" |");
                for (String j : javaCols) {
                    List<Double> jv = r.columns.get(j).get(FIGURES[f]);
                    sb.append(' ').append(jv == null || cv == null ? "-"
                            : String.format(Locale.ROOT, "%.2fx", median(jv) / median(cv))).append(" |");
                }
                sb.append('\n');
            }
        } else {
            sb.append("\nC reference skipped: ").append(r.cSkipped).append('\n');
        }
        String clean = cols.stream().filter(s -> s.endsWith(" clean")).findFirst().orElse(null);
        if (clean != null) {
            sb.append("\n## Against the clean JVM (medians)\n\n| figure |");
            List<String> others = new ArrayList<>();
            for (String j : cols) {
                if (!j.equals(clean) && !j.startsWith("C ")) {
                    others.add(j);
                    sb.append(' ').append(j).append(" / clean |");
                }
            }
            sb.append("\n| --- |");
            for (int i = 0; i < others.size(); i++) {
                sb.append(" ---: |");
            }
            sb.append('\n');
            for (String fig : FIGURES) {
                List<Double> base = r.columns.get(clean).get(fig);
                sb.append("| ").append(fig).append(" |");
                for (String j : others) {
                    List<Double> v = r.columns.get(j).get(fig);
                    sb.append(' ').append(v == null || base == null ? "-"
                            : String.format(Locale.ROOT, "%.2fx", median(v) / median(base))).append(" |");
                }
                sb.append('\n');
            }
        }
        sb.append("\n## Notes\n\n");
        for (Map.Entry<String, String> n : r.notes.entrySet()) {
            sb.append("- ").append(n.getKey()).append(": ").append(n.getValue()).append('\n');
        }
        sb.append("- cpus: ").append(Runtime.getRuntime().availableProcessors()).append('\n');
        return sb.toString();
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Paths.get("/proc/loadavg")).split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Paths.get(dir, command))) {
                return true;
            }
        }
        return false;
    }

    /** A finished command: exit code and its stdout and stderr together. */
    static final class Exec {
        final int code;
        final String output;

        Exec(int code, String output) {
            this.code = code;
            this.output = output;
        }
    }

    static Exec exec(List<String> command, int timeoutSeconds) {
        try {
            Path log = Files.createTempFile("engine-comparison", ".log");
            try {
                Process p = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                    return new Exec(-1, "timed out after " + timeoutSeconds + " s: " + Files.readString(log));
                }
                return new Exec(p.exitValue(), Files.readString(log));
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            return new Exec(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Exec(-1, e.toString());
        }
    }
}
