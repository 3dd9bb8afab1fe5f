using System;

namespace Chorus.Worker
{
    /// <summary>
    /// Says explicitly that a failure is transient. Every exception a handler throws is retryable (the
    /// agent runs the task again after a backoff, up to its max retries) unless it is a
    /// <see cref="PermanentException"/>.
    /// </summary>
    public class RetryableException : Exception
    {
        public RetryableException(string message) : base(message) { }

        public RetryableException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>
    /// Thrown by a handler for a failure another attempt cannot fix (bad input): the task fails at once,
    /// without its remaining retries.
    /// </summary>
    public class PermanentException : Exception
    {
        public PermanentException(string message) : base(message) { }

        public PermanentException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>The agent refused a request of a running task (CreateResults or SubmitTasks); left
    /// uncaught, it fails the task for good.</summary>
    public class AgentRefusedException : PermanentException
    {
        public AgentRefusedException(string message) : base(message) { }
    }

    /// <summary>The worker's connection to the agent ended while a task was waiting on it.</summary>
    public class WorkerStoppedException : Exception
    {
        public WorkerStoppedException(string message) : base(message) { }
    }
}
