package io.cellgate.cli;

/** The command line is wrong: exit code 2, the message says what to write instead. */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message, null, false, false);
    }
}
