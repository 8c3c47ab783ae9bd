package io.cellgate.cli;

import com.google.protobuf.ByteString;
import io.cellgate.client.CallFailedException;
import io.cellgate.client.CellgateClient;
import io.cellgate.protocol.LoginToken;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Response;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gatewayctl call}: one request through a gateway's client port, as a client sends it (the
 * Java client library): log in, send, print the answer. Exit 0 when the answer is OK, 1 for any other
 * code, 3 when the gateway cannot be reached or does not answer in time.
 */
@Command(name = "call", mixinStandardHelpOptions = true,
        description = "Send one request through a gateway's client port and print the answer: its code, then its body "
                + "(as text when it is UTF-8 without control characters, else as hex).")
final class CallCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--client", defaultValue = "${env:CELLGATE_CLIENT:-127.0.0.1:9000}",
            description = "The gateway's client port, host:port (env CELLGATE_CLIENT). Default: ${DEFAULT-VALUE}.")
    String client;

    @Option(names = "--uid", required = true, description = "Log in as this user (unsigned 64-bit).")
    String uid;

    @Option(names = "--cmd", required = true, description = "The command word.")
    int cmd;

    @CommandLine.ArgGroup(exclusive = true)
    Body body = new Body();

    static final class Body {
        @Option(names = "--body", description = "The request body as UTF-8 text.")
        String text;

        @Option(names = "--body-hex", description = "The request body in hex.")
        String hex;

        @Option(names = "--body-file", description = "The request body: this file's bytes.")
        Path file;
    }

    @Option(names = "--token-file", description = "File holding the login token. Without it, one is minted from the token secret.")
    Path tokenFile;

    @Option(names = "--secret-file", description = "File holding the token secret, to mint a token valid for 5 minutes.")
    Path secretFile;

    @Option(names = "--secret-env", defaultValue = "CELLGATE_TOKEN_SECRET",
            description = "Environment variable holding the token secret, when neither --token-file nor --secret-file is given. "
                    + "Default: ${DEFAULT-VALUE}.")
    String secretEnv;

    @Option(names = "--timeout", defaultValue = "10", description = "Seconds to wait for the login and the answer. Default: ${DEFAULT-VALUE}.")
    int timeoutSeconds;

    @Option(names = "--client-cacert", description = "PEM CA certificate(s): speak TLS to the client port (listen.tls).")
    Path clientCaCert;

    @Option(names = "--hex", description = "Print the answer's body in hex whatever it holds.")
    boolean hexOut;

    @Override
    public Integer call() throws IOException, InterruptedException {
        long user;
        try {
            user = Long.parseUnsignedLong(uid);
        } catch (NumberFormatException e) {
            throw new UsageException("--uid: " + uid + " (expected: an unsigned 64-bit integer)");
        }
        String token = tokenFile != null ? Files.readString(tokenFile, StandardCharsets.UTF_8).strip()
                : new LoginToken(TokenCommand.Issue.secret(secretFile, secretEnv)).issue(user, System.currentTimeMillis() / 1000 + 300);
        CellgateClient.Builder builder = CellgateClient.builder().gateway(client).login(user, () -> token)
                .device("gatewayctl", "", io.cellgate.protocol.Version.get().replaceAll("[^A-Za-z0-9._:+-]", "-"))
                .connectTimeout(Duration.ofSeconds(timeoutSeconds)).defaultTimeout(Duration.ofSeconds(timeoutSeconds));
        if (clientCaCert != null) {
            builder.tls(SslContextBuilder.forClient().trustManager(clientCaCert.toFile()).build());
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (CellgateClient c = builder.build()) {
            c.connect().get(timeoutSeconds, TimeUnit.SECONDS);
            Response r = c.call(cmd, requestBody()).get(timeoutSeconds + 1L, TimeUnit.SECONDS);
            out.println(r.getCode() + (r.getMessage().isEmpty() ? "" : ": " + r.getMessage()));
            if (!r.getBody().isEmpty()) {
                out.println(printable(r.getBody()));
            }
            out.flush();
            return r.getCode() == Code.OK ? 0 : Gatewayctl.FAILED;
        } catch (ExecutionException e) {
            err.println("gatewayctl: " + client + ": " + e.getCause().getMessage());
            err.flush();
            return e.getCause() instanceof CallFailedException f && f.reason() == CallFailedException.Reason.CLOSED
                    && f.getMessage().contains("login refused") ? Gatewayctl.UNAUTHENTICATED : Gatewayctl.UNREACHABLE;
        } catch (TimeoutException e) {
            err.println("gatewayctl: " + client + ": no login or answer within " + timeoutSeconds + " s");
            err.flush();
            return Gatewayctl.UNREACHABLE;
        }
    }

    private ByteString requestBody() throws IOException {
        if (body.text != null) {
            return ByteString.copyFromUtf8(body.text);
        }
        if (body.hex != null) {
            try {
                return ByteString.copyFrom(HexFormat.of().parseHex(body.hex.strip()));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--body-hex: " + e.getMessage());
            }
        }
        if (body.file != null) {
            return ByteString.copyFrom(Files.readAllBytes(body.file));
        }
        return ByteString.EMPTY;
    }

    private String printable(ByteString bytes) {
        if (!hexOut) {
            try {
                String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes.asReadOnlyByteBuffer()).toString();
                if (text.chars().noneMatch(ch -> ch < 0x20 && ch != '\n' && ch != '\t')) {
                    return text;
                }
            } catch (CharacterCodingException e) {
                // not text: hex below
            }
        }
        return HexFormat.of().formatHex(bytes.toByteArray());
    }
}
