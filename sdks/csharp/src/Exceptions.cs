using System;

namespace Chorus.Worker
{
    /// <summary>
    /// Thrown by a handler to fail its task with a retryable error: the agent runs the task again, up
    /// to its max retries. Any other exception fails the task without retry.
    /// </summary>
    public class RetryableException : Exception
    {
        public RetryableException(string message) : base(message) { }

        public RetryableException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>The agent refused a request of a running task (CreateResults or SubmitTasks).</summary>
    public class AgentRefusedException : Exception
    {
        public AgentRefusedException(string message) : base(message) { }
    }

    /// <summary>The worker's connection to the agent ended while a task was waiting on it.</summary>
    public class WorkerStoppedException : Exception
    {
        public WorkerStoppedException(string message) : base(message) { }
    }
}
