package io.cellgate.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code gatewayctl}: the operator CLI of cellgate. It talks to a gateway's admin API.
 *
 * <p>Exit codes: 0 success; 1 the gateway refused or failed the operation; 2 usage error; 3 the
 * gateway cannot be reached; 4 the admin token was refused.
 */
@Command(name = "gatewayctl", mixinStandardHelpOptions = true, versionProvider = Gatewayctl.BuildVersion.class,
        description = "Operate cellgate gateways through their admin API.",
        subcommands = {StatusCommand.class, RoutesCommand.class, UsersCommand.class, SetsCommand.class, CmdsCommand.class,
            LimitsCommand.class, DegradeCommand.class, DyeCommand.class, CityCommand.class, ConnsCommand.class, TokenCommand.class,
            ReloadCommand.class, DrainCommand.class, LogsCommand.class, VersionCommand.class, CallCommand.class, AutoComplete.GenerateCompletion.class,
            CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the gateway refused or failed the operation (stderr says why)", "2:usage error",
            "3:the gateway's admin API cannot be reached",
            "4:the admin token was refused, or it may only read and the command changes something"})
public final class Gatewayctl implements Runnable {
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int UNREACHABLE = 3;
    static final int UNAUTHENTICATED = 4;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--admin", scope = ScopeType.INHERIT, defaultValue = "${env:CELLGATE_ADMIN:-127.0.0.1:9411}",
            description = "The gateway's admin API, host:port (env CELLGATE_ADMIN). Default: ${DEFAULT-VALUE}.")
    String admin;

    @Option(names = "--admin-token-file", scope = ScopeType.INHERIT,
            description = "File holding the admin token (default: the environment variable CELLGATE_ADMIN_TOKEN).")
    Path adminTokenFile;

    @Option(names = "--cacert", scope = ScopeType.INHERIT, defaultValue = "${env:CELLGATE_ADMIN_CACERT}",
            description = "PEM CA certificate(s) to trust: talk to the admin API over TLS (env CELLGATE_ADMIN_CACERT).")
    Path caCert;

    @Option(names = "--cert", scope = ScopeType.INHERIT, defaultValue = "${env:CELLGATE_ADMIN_CERT}",
            description = "PEM client certificate, for an admin API that requires one (env CELLGATE_ADMIN_CERT).")
    Path clientCert;

    @Option(names = "--key", scope = ScopeType.INHERIT, defaultValue = "${env:CELLGATE_ADMIN_KEY}",
            description = "PEM (PKCS#8) private key of --cert (env CELLGATE_ADMIN_KEY).")
    Path clientKey;

    @Option(names = {"-o", "--output"}, scope = ScopeType.INHERIT, defaultValue = "table",
            description = "Output: table (for people) or json (for scripts). Default: ${DEFAULT-VALUE}.")
    String output;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code gatewayctl --version}: this build's version. */
    static final class BuildVersion implements CommandLine.IVersionProvider {
        @java.lang.Override
        public String[] getVersion() {
            return new String[] {"gatewayctl " + io.cellgate.protocol.Version.get()};
        }
    }

    static Gatewayctl root(CommandLine.Model.CommandSpec spec) {
        return (Gatewayctl) spec.root().userObject();
    }

    AdminClient connect() {
        if ((clientCert == null) != (clientKey == null)) {
            throw new UsageException("--cert and --key: " + (clientCert == null ? "--key" : "--cert") + " given alone (expected: both, or neither)");
        }
        if (clientCert != null && caCert == null) {
            throw new UsageException("--cert: given without --cacert (expected: --cacert FILE, the CA that signed the gateway's certificate)");
        }
        return new AdminClient(admin, AdminClient.token(adminTokenFile, "CELLGATE_ADMIN_TOKEN"),
                caCert == null ? null : new AdminClient.Tls(caCert, clientCert, clientKey));
    }

    boolean json() {
        if (!output.equals("table") && !output.equals("json")) {
            throw new UsageException("--output: " + output + " (expected: table or json)");
        }
        return output.equals("json");
    }

    /** Prints {@code message} as JSON with -o json, else runs {@code table}. */
    void print(PrintWriter out, MessageOrBuilder message, Runnable table) {
        if (json()) {
            try {
                out.println(JsonFormat.printer().alwaysPrintFieldsWithNoPresence().print(message));
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
            out.flush();
        } else {
            table.run();
        }
    }

    /** Runs gatewayctl with {@code args}, writing to {@code out} and {@code err}; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Gatewayctl());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            int code = exitCode(ex);
            commandLine.getErr().println("gatewayctl: " + message(ex, Gatewayctl.root(commandLine.getCommandSpec()).admin));
            commandLine.getErr().flush();
            return code;
        });
        return cl.execute(args);
    }

    static int exitCode(Exception ex) {
        if (ex instanceof UsageException || ex instanceof CommandLine.ParameterException) {
            return USAGE;
        }
        if (ex instanceof StatusRuntimeException s) {
            Status.Code code = s.getStatus().getCode();
            if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
                return UNREACHABLE;
            }
            if (code == Status.Code.UNAUTHENTICATED || code == Status.Code.PERMISSION_DENIED) {
                return UNAUTHENTICATED;
            }
        }
        return FAILED;
    }

    static String message(Exception ex, String admin) {
        if (ex instanceof StatusRuntimeException s) {
            Status status = s.getStatus();
            String description = status.getDescription() == null ? "" : status.getDescription();
            switch (status.getCode()) {
                case UNAVAILABLE:
                case DEADLINE_EXCEEDED:
                    return "cannot reach the gateway's admin API at " + admin + " (" + status.getCode()
                            + "): is gatewayd running, and is --admin (or CELLGATE_ADMIN) its admin.listen?";
                case UNAUTHENTICATED:
                    return description + "; check --admin-token-file or CELLGATE_ADMIN_TOKEN";
                default:
                    return description.isEmpty() ? status.getCode().toString() : description;
            }
        }
        return ex.getMessage() == null ? ex.toString() : ex.getMessage();
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(new java.io.OutputStreamWriter(System.out, java.nio.charset.Charset.defaultCharset()), true),
                new PrintWriter(new java.io.OutputStreamWriter(System.err, java.nio.charset.Charset.defaultCharset()), true)));
    }
}
