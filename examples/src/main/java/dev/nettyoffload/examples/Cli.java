package dev.nettyoffload.examples;

import dev.nettyoffload.core.Transport;
import picocli.CommandLine;
import picocli.CommandLine.ExecutionException;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.AnnotatedElement;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * The command line of every main in the examples, on picocli: {@code --help} and {@code --version}, transports
 * by {@link Transport#fromName}, {@code HOST:PORT} addresses, {@link Range} checks, and bad input refused with
 * exit status {@value #USAGE} and one line on stderr that names the option and what it accepts, before the
 * command does anything.
 * <p>
 * The benchmarks' mains use it too.
 */
public final class Cli {
    /** The command did its work. */
    public static final int OK = CommandLine.ExitCode.OK;
    /** The command failed while running. */
    public static final int FAILED = CommandLine.ExitCode.SOFTWARE;
    /** Bad command line: nothing was done. */
    public static final int USAGE = CommandLine.ExitCode.USAGE;

    private Cli() {
    }

    /** Inclusive bounds of a numeric option or parameter, checked when it is given on the command line. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.FIELD, ElementType.METHOD})
    public @interface Range {
        double min();

        double max();
    }

    /** Cross-option checks an options class runs after parsing, before the command starts. */
    public interface Validated {
        /** Throws a {@link ParameterException} (see {@link #invalid}) when the options do not fit together. */
        void validate(CommandLine commandLine);
    }

    /**
     * Parses {@code args} into {@code options} (an {@code @Command} class) and runs {@code body}, or prints the
     * help or version. Returns the exit status: {@link #OK}, {@link #USAGE} for bad input (one line on stderr,
     * {@code body} not run) or {@link #FAILED} when {@code body} throws (one line on stderr), else what
     * {@code body} returns.
     */
    public static int execute(Object options, Callable<Integer> body, String... args) {
        return execute(options, body, System.out, System.err, args);
    }

    /** {@link #execute(Object, Callable, String...)} with help and version on {@code out}, errors on {@code err}. */
    public static int execute(Object options, Callable<Integer> body, PrintStream out, PrintStream err,
                              String... args) {
        CommandLine cl = newCommandLine(options);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionStrategy(parseResult -> {
            Integer help = CommandLine.executeHelpRequest(parseResult);
            if (help != null) {
                return help;
            }
            check(parseResult);
            try {
                return body.call();
            } catch (ParameterException e) {
                throw e;
            } catch (Exception e) {
                throw new ExecutionException(parseResult.commandSpec().commandLine(), e.toString(), e);
            }
        });
        cl.setParameterExceptionHandler((e, a) -> {
            CommandLine c = e.getCommandLine();
            c.getErr().println(c.getCommandName() + ": " + describe(e));
            c.getErr().flush();
            return USAGE;
        });
        cl.setExecutionExceptionHandler((e, c, parseResult) -> {
            c.getErr().println(c.getCommandName() + ": " + firstLine(e));
            c.getErr().flush();
            return FAILED;
        });
        return cl.execute(args);
    }

    /**
     * Parses {@code args} into {@code options} for programmatic use (tests); throws {@link ParameterException}
     * on bad input. Help and version requests are not honoured here.
     */
    public static <T> T parse(T options, String... args) {
        CommandLine cl = newCommandLine(options);
        check(cl.parseArgs(args));
        return options;
    }

    private static CommandLine newCommandLine(Object options) {
        CommandLine cl = new CommandLine(options);
        cl.registerConverter(Transport.class, Cli::transport);
        cl.registerConverter(InetSocketAddress.class, Cli::address);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // "@file" is an ordinary argument here, as before picocli.
        cl.setExpandAtFiles(false);
        return cl;
    }

    private static void check(ParseResult parseResult) {
        List<ArgSpec> given = new ArrayList<>(parseResult.matchedOptions());
        given.addAll(parseResult.matchedPositionals());
        for (ArgSpec arg : given) {
            Range range = range(arg);
            if (range == null) {
                continue;
            }
            Object value = arg.getValue();
            Collection<?> values = value instanceof Collection ? (Collection<?>) value : List.of(value);
            for (Object v : values) {
                double d = ((Number) v).doubleValue();
                if (!(d >= range.min() && d <= range.max())) {
                    throw invalid(parseResult.commandSpec().commandLine(), arg, format(d) + " is out of range");
                }
            }
        }
        Object user = parseResult.commandSpec().userObject();
        if (user instanceof Validated) {
            ((Validated) user).validate(parseResult.commandSpec().commandLine());
        }
    }

    /** A usage error about {@code arg}'s value; {@link #execute} prints it with the accepted range, if any. */
    public static ParameterException invalid(CommandLine commandLine, ArgSpec arg, String problem) {
        return new ParameterException(commandLine, "Invalid value for " + name(arg) + ": " + problem, arg, null);
    }

    /** A usage error about the option named {@code option}. */
    public static ParameterException invalid(CommandLine commandLine, String option, String problem) {
        return invalid(commandLine, commandLine.getCommandSpec().findOption(option), problem);
    }

    /** One line: picocli's message, the accepted range of the argument or the valid options. */
    private static String describe(ParameterException e) {
        String message = firstLine(e.getMessage());
        if (e instanceof UnmatchedArgumentException && message.startsWith("Unknown option")) {
            List<String> names = new ArrayList<>();
            for (OptionSpec o : e.getCommandLine().getCommandSpec().options()) {
                names.add(o.longestName());
            }
            return message + " (options: " + String.join(", ", names) + ")";
        }
        if (e instanceof UnmatchedArgumentException) {
            return message + " (see --help)";
        }
        ArgSpec arg = e.getArgSpec();
        if (arg == null && e instanceof MissingParameterException
                && !((MissingParameterException) e).getMissing().isEmpty()) {
            arg = ((MissingParameterException) e).getMissing().get(0);
        }
        Range range = arg == null ? null : range(arg);
        return range == null || message.contains("(expected") ? message : message + " (expected " + format(range.min()) + "-" + format(range.max())
                + ")";
    }

    private static Range range(ArgSpec arg) {
        Object element = arg.userObject();
        return element instanceof AnnotatedElement ? ((AnnotatedElement) element).getAnnotation(Range.class) : null;
    }

    private static String name(ArgSpec arg) {
        if (arg instanceof OptionSpec) {
            return "option '" + ((OptionSpec) arg).longestName() + "'";
        }
        return "positional parameter " + ((PositionalParamSpec) arg).paramLabel();
    }

    private static String format(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    private static String firstLine(Object message) {
        String m = message instanceof Throwable ? throwableMessage((Throwable) message) : String.valueOf(message);
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static String throwableMessage(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + m;
    }

    /** {@link Transport#fromName}, for picocli. */
    static Transport transport(String name) {
        try {
            return Transport.fromName(name.trim());
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    /** {@code HOST:PORT} or {@code [IPV6]:PORT}, port 0-65535. */
    public static InetSocketAddress address(String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new TypeConversionException("expected HOST:PORT, got '" + value + "'");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) {
            throw new TypeConversionException("port of '" + value + "' (expected HOST:PORT with a port from 0 to"
                    + " 65535)");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new TypeConversionException("unknown host '" + host + "'");
        }
    }

    /** The value of an {@code on|off} option (any case). */
    public enum OnOff {
        ON,
        OFF;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** {@code --version}: this build's version (from the jar's manifest) and the Java runtime. */
    public static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Cli.class.getPackage().getImplementationVersion();
            return new String[] {"netty-offload " + (v == null ? "(not run from the jar)" : v)
                    + ", Java " + Runtime.version()};
        }
    }
}
