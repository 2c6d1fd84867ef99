package dev.metaflowlsp.core;

/** A run specification that cannot be run; the message is written to be shown to the user as is. */
public final class RunSpecException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public RunSpecException(String message) {
        super(message);
    }

    public RunSpecException(String message, Throwable cause) {
        super(message, cause);
    }
}
