package io.cellgate.cli;

import io.cellgate.protocol.LoginToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gatewayctl token issue}: mints a login token (docs/PROTOCOL.md) for tests and tools. */
@Command(name = "token", description = "Login tokens.", mixinStandardHelpOptions = true,
        subcommands = {TokenCommand.Issue.class})
final class TokenCommand extends GroupCommand {

    @Command(name = "issue", mixinStandardHelpOptions = true,
            description = "Print a login token for a uid, signed with the gateway's token secret.")
    static final class Issue implements java.util.concurrent.Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--uid", required = true, description = "The user id (unsigned 64-bit).")
        String uid;

        @Option(names = "--ttl", defaultValue = "PT24H", description = "Validity, ISO-8601 (PT24H) or 30s/15m/24h. Default: ${DEFAULT-VALUE}.")
        String ttl;

        @Option(names = "--key-id", description = "Mint a v2 token naming this key (the secret given is that key's); "
                + "without it, a v1 token of the token secret.")
        String keyId;

        @Option(names = "--secret-file", description = "File holding the token secret.")
        Path secretFile;

        @Option(names = "--secret-env", defaultValue = "CELLGATE_TOKEN_SECRET",
                description = "Environment variable holding the token secret, used when --secret-file is not given. Default: ${DEFAULT-VALUE}.")
        String secretEnv;

        @Override
        public Integer call() throws IOException {
            long id;
            try {
                id = Long.parseUnsignedLong(uid);
            } catch (NumberFormatException e) {
                throw new UsageException("--uid: " + uid + " (expected: an unsigned 64-bit integer)");
            }
            Duration validity = parseTtl();
            byte[] key = secret(secretFile, secretEnv);
            long now = System.currentTimeMillis() / 1000;
            String token;
            try {
                token = keyId == null ? new LoginToken(key).issue(id, now + validity.toSeconds())
                        : new LoginToken(null, java.util.Map.of(keyId, key), 0).issue(keyId, id, now, now + validity.toSeconds());
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            spec.commandLine().getOut().println(token);
            return 0;
        }

        /** The token secret from {@code file}, else from the environment variable {@code env}. */
        static byte[] secret(Path file, String env) throws IOException {
            String secret;
            if (file != null) {
                secret = Files.readString(file, StandardCharsets.UTF_8).strip();
            } else {
                secret = System.getenv(env);
                if (secret == null) {
                    throw new IllegalStateException("no token secret: set " + env + " or pass --secret-file FILE");
                }
            }
            return secret.getBytes(StandardCharsets.UTF_8);
        }

        private Duration parseTtl() {
            String t = ttl.trim();
            try {
                if (t.startsWith("P") || t.startsWith("p")) {
                    return Duration.parse(t);
                }
                long n = Long.parseLong(t.substring(0, t.length() - 1));
                switch (t.charAt(t.length() - 1)) {
                    case 's':
                        return Duration.ofSeconds(n);
                    case 'm':
                        return Duration.ofMinutes(n);
                    case 'h':
                        return Duration.ofHours(n);
                    case 'd':
                        return Duration.ofDays(n);
                    default:
                        break;
                }
            } catch (DateTimeParseException | NumberFormatException | StringIndexOutOfBoundsException e) {
                // fall through to the usage error
            }
            throw new UsageException("--ttl: " + ttl + " (expected: e.g. 30s, 15m, 24h, 7d or PT24H)");
        }
    }
}
