using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Threading;
using Chorus.Worker.Json;
using Chorus.Worker.Protocol;

namespace Chorus.Worker
{
    /// <summary>
    /// A Chorus worker on the stdio transport: register a handler per method, then <see cref="Run"/>.
    /// It says Hello to the agent on stdout, reads the agent's messages on stdin, runs up to Capacity
    /// tasks at once (one thread each) and reports each outcome as one line.
    /// <code>
    /// var worker = new Worker(WorkerOptions.FromEnvironment());
    /// worker.Handle("echo", ctx => ctx.Payload);
    /// return worker.Run();
    /// </code>
    /// </summary>
    public sealed class Worker
    {
        /// <summary>Version of this SDK, sent in Hello.</summary>
        public const string SdkVersion = "0.1.0";

        readonly WorkerOptions options;
        readonly Dictionary<string, Func<TaskContext, IList<TaskOutput>>> handlers = new Dictionary<string, Func<TaskContext, IList<TaskOutput>>>();
        readonly ConcurrentDictionary<string, TaskContext> running = new ConcurrentDictionary<string, TaskContext>();
        readonly ConcurrentDictionary<string, System.Threading.Tasks.TaskCompletionSource<ConnectResponse>> calls =
            new ConcurrentDictionary<string, System.Threading.Tasks.TaskCompletionSource<ConnectResponse>>();
        readonly BlockingCollection<TaskContext> queue = new BlockingCollection<TaskContext>();
        readonly ManualResetEventSlim done = new ManualResetEventSlim(false);
        readonly TextWriter log;
        StdioChannel channel;
        long callSeq;
        int active;
        volatile bool draining;
        volatile bool stopped;
        int exitCode;
        Timer graceTimer;

        public Worker(WorkerOptions options)
        {
            if (options == null) throw new ArgumentNullException("options");
            if (options.Capacity < 1) throw new ArgumentException("the worker's capacity must be at least 1 task, not " + options.Capacity);
            this.options = options;
            log = options.Log ?? Console.Error;
        }

        /// <summary>Largest data sent inline (from the agent's Welcome); larger outputs go to files.</summary>
        public long InlineLimit { get; private set; }

        /// <summary>The agent's Welcome, once <see cref="Run"/> received it.</summary>
        public Welcome Welcome { get; private set; }

        /// <summary>Serves method with a handler returning the bytes of the task's (single) own output, or null for none.</summary>
        public void Handle(string method, Func<TaskContext, byte[]> handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            HandleOutputs(method, ctx => SingleOutput(ctx, handler(ctx)));
        }

        /// <summary>Serves method with an async handler returning the bytes of the task's (single) own output, or null.</summary>
        public void HandleAsync(string method, Func<TaskContext, System.Threading.Tasks.Task<byte[]>> handler)
        {
            if (handler == null) throw new ArgumentNullException("handler");
            HandleOutputs(method, ctx => SingleOutput(ctx, handler(ctx).GetAwaiter().GetResult()));
        }

        /// <summary>Serves method with a handler returning every output it completes (null for none).</summary>
        public void HandleOutputs(string method, Func<TaskContext, IList<TaskOutput>> handler)
        {
            if (string.IsNullOrEmpty(method)) throw new ArgumentException("a handler needs a method name", "method");
            if (handler == null) throw new ArgumentNullException("handler");
            if (handlers.ContainsKey(method)) throw new ArgumentException("method " + method + " already has a handler", "method");
            handlers[method] = handler;
        }

        static IList<TaskOutput> SingleOutput(TaskContext ctx, byte[] data)
        {
            if (data == null) return null;
            var own = ctx.OwnOutputs();
            if (own.Count == 0) return null;
            if (own.Count > 1)
                throw new InvalidOperationException("the task has " + own.Count + " expected outputs but its handler returned one byte array; register it with HandleOutputs");
            return new[] { new TaskOutput(own[0], data) };
        }

        /// <summary>
        /// Serves tasks until the agent asks the worker to drain (then returns 0 once running tasks have
        /// finished) or closes its input. Returns the process exit code: 0 after a drain, 1 when the
        /// agent went away or broke the protocol, 2 when the worker cannot start.
        /// </summary>
        public int Run()
        {
            if (handlers.Count == 0) { Log("error", "the worker has no handlers: register at least one method before Run"); return 2; }
            if (string.IsNullOrEmpty(options.Token))
            {
                Log("error", "CHORUS_WORKER_TOKEN is not set: this worker must be started by a Chorus agent (transport: stdio)");
                return 2;
            }
            Stream output = options.Output;
            if (output == null)
            {
                output = Console.OpenStandardOutput();
                Console.SetOut(Console.Error); // stdout carries the protocol only
            }
            channel = new StdioChannel(options.Input ?? Console.OpenStandardInput(), output);
            var methods = new List<string>(handlers.Keys);
            methods.Sort(StringComparer.Ordinal);
            try
            {
                channel.Send(new ConnectRequest { Hello = new Hello {
                    Token = options.Token, Language = "csharp", SdkVersion = SdkVersion, Methods = methods,
                    Capacity = options.Capacity, Pid = Process.GetCurrentProcess().Id, AcceptsBatches = true } });
                var first = channel.Receive();
                if (first == null) { Log("error", "the agent closed the worker's stdin before answering Hello"); return 1; }
                if (first.Welcome == null) { Log("error", "the agent's first message was " + first.MessageCase + ", not Welcome"); return 1; }
                Welcome = first.Welcome;
                InlineLimit = Welcome.InlineLimitBytes;
                channel.Batches = Welcome.AcceptsBatches;
            }
            catch (Exception e) when (e is IOException || e is JsonException)
            {
                Log("error", "cannot start the conversation with the agent: " + e.Message);
                return 1;
            }
            Log("info", "connected to agent " + Welcome.AgentId + " as worker " + Welcome.WorkerId + " (capacity " + options.Capacity + ", methods " + string.Join(",", methods) + ")");
            for (int i = 0; i < options.Capacity; i++)
                new Thread(ExecuteLoop) { IsBackground = true, Name = "chorus-task-" + i }.Start();
            new Thread(ReadLoop) { IsBackground = true, Name = "chorus-reader" }.Start();
            done.Wait();
            if (graceTimer != null) graceTimer.Dispose();
            queue.CompleteAdding();
            return exitCode;
        }

        void ReadLoop()
        {
            while (true)
            {
                ConnectResponse m;
                try { m = channel.Receive(); }
                catch (Exception e) when (e is IOException || e is JsonException)
                {
                    Log("error", "the agent's messages on stdin cannot be read: " + e.Message);
                    Stop(1, "the worker could not read the agent's messages");
                    return;
                }
                if (m == null)
                {
                    if (!draining) Log("error", "the agent closed the worker's stdin; stopping");
                    Stop(draining ? 0 : 1, "the agent closed the connection");
                    return;
                }
                Dispatch(m);
            }
        }

        // Handles one message from the agent. A batch is handled message by message, in order, as if they
        // came one by one; the replies it calls for (pongs, refusals) are ready together and go out in one
        // write.
        void Dispatch(ConnectResponse m, List<ConnectRequest> replies = null)
        {
            switch (m.MessageCase)
            {
                case ConnectResponse.MessageOneofCase.Batch:
                    if (replies != null) { Log("warn", "ignoring a batch nested in a batch from the agent"); break; }
                    var own = new List<ConnectRequest>();
                    foreach (var inner in m.Batch.Messages)
                    {
                        if (inner.MessageCase == ConnectResponse.MessageOneofCase.Welcome) { Log("warn", "ignoring a Welcome in a batch from the agent"); continue; }
                        Dispatch(inner, own);
                    }
                    if (own.Count > 0)
                    {
                        try { SendAll(own); }
                        catch (Exception e) { Log("warn", "could not answer the agent's batch: " + e.Message); }
                    }
                    break;
                case ConnectResponse.MessageOneofCase.AssignTask: Assign(m.AssignTask, replies); break;
                case ConnectResponse.MessageOneofCase.CancelTask:
                    TaskContext ctx;
                    if (running.TryGetValue(m.CancelTask.TaskId, out ctx)) ctx.Cancel(m.CancelTask.Reason);
                    break;
                case ConnectResponse.MessageOneofCase.Drain: StartDrain(m.Drain); break;
                case ConnectResponse.MessageOneofCase.CreateResultsReply: Reply(m.CreateResultsReply.CallId, m); break;
                case ConnectResponse.MessageOneofCase.SubmitTasksReply: Reply(m.SubmitTasksReply.CallId, m); break;
                case ConnectResponse.MessageOneofCase.Ping:
                    var pong = new ConnectRequest { Pong = new Pong { Nonce = m.Ping.Nonce } };
                    if (replies != null) replies.Add(pong);
                    else TrySend(pong, "answer a ping");
                    break;
                case ConnectResponse.MessageOneofCase.Welcome: break;
                default: break; // a message this SDK does not know yet
            }
        }

        void Assign(AssignTask a, List<ConnectRequest> replies)
        {
            if (draining || stopped)
            {
                var refusal = Failed(a.TaskId, "the worker is draining and takes no new task", true);
                if (replies != null) replies.Add(refusal);
                else TrySend(refusal, "refuse a task");
                return;
            }
            var ctx = new TaskContext(this, a, new CancellationTokenSource());
            if (!running.TryAdd(a.TaskId, ctx))
            {
                Log("warn", "the agent assigned task " + a.TaskId + " twice; ignoring the second assignment");
                return;
            }
            Interlocked.Increment(ref active);
            queue.Add(ctx);
        }

        void ExecuteLoop()
        {
            try
            {
                foreach (var ctx in queue.GetConsumingEnumerable()) Execute(ctx);
            }
            catch (InvalidOperationException) { } // queue completed
        }

        void Execute(TaskContext ctx)
        {
            Timer deadline = null;
            if (ctx.MaxDuration.HasValue && ctx.MaxDuration.Value > TimeSpan.Zero)
            {
                var max = ctx.MaxDuration.Value;
                deadline = new Timer(_ => ctx.Cancel("the task ran past its max duration of " + max.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s", false),
                    null, max, Timeout.InfiniteTimeSpan);
            }
            if (options.Verbose) Log("debug", "task " + ctx.TaskId + " (" + ctx.Method + ") started, attempt " + ctx.Attempt);
            ConnectRequest outcome;
            try
            {
                ctx.ThrowIfCancelled();
                Func<TaskContext, IList<TaskOutput>> handler;
                if (!handlers.TryGetValue(ctx.Method, out handler))
                {
                    outcome = Failed(ctx.TaskId, "this worker does not serve method \"" + ctx.Method + "\" (it serves " + string.Join(", ", handlers.Keys) + ")", false);
                }
                else
                {
                    var outs = handler(ctx);
                    var done = new TaskCompleted { TaskId = ctx.TaskId };
                    if (outs != null)
                        foreach (var o in outs) done.Outputs.Add(new Output { ResultId = o.ResultId, Data = ctx.OutData(o.Data) });
                    outcome = new ConnectRequest { TaskCompleted = done };
                }
            }
            catch (Exception e)
            {
                outcome = Failure(ctx, e);
            }
            if (deadline != null) deadline.Dispose();
            TaskContext removed;
            running.TryRemove(ctx.TaskId, out removed);
            if (options.Verbose) Log("debug", "task " + ctx.TaskId + " ended: " + outcome.MessageCase);
            TrySend(outcome, "report the outcome of task " + ctx.TaskId);
            Interlocked.Decrement(ref active);
            CheckDrained();
        }

        ConnectRequest Failure(TaskContext ctx, Exception e)
        {
            e = Unwrap(e);
            if (e is OperationCanceledException && ctx.CancellationToken.IsCancellationRequested)
                return Failed(ctx.TaskId, "the task was cancelled: " + (ctx.CancellationReason ?? "cancelled"), ctx.CancelRetryable);
            if (e is RetryableException) return Failed(ctx.TaskId, e.Message, true);
            if (e is WorkerStoppedException) return Failed(ctx.TaskId, e.Message, true);
            if (!(e is AgentRefusedException)) Log("info", "task " + ctx.TaskId + " (" + ctx.Method + ") failed: " + e.GetType().Name + ": " + e.Message);
            // Any exception is retried (up to the task's max retries) unless marked permanent.
            return Failed(ctx.TaskId, e.Message, !(e is PermanentException));
        }

        static Exception Unwrap(Exception e)
        {
            while (true)
            {
                var agg = e as AggregateException;
                if (agg != null && agg.InnerExceptions.Count == 1) { e = agg.InnerExceptions[0]; continue; }
                var tie = e as TargetInvocationException;
                if (tie != null && tie.InnerException != null) { e = tie.InnerException; continue; }
                return e;
            }
        }

        static ConnectRequest Failed(string taskId, string message, bool retryable)
        {
            return new ConnectRequest { TaskFailed = new TaskFailed { TaskId = taskId, Message = message ?? "", Retryable = retryable } };
        }

        void StartDrain(Drain d)
        {
            if (draining) return;
            draining = true;
            Log("info", "draining: finishing " + Volatile.Read(ref active) + " running tasks, then exiting");
            if (d.Grace.HasValue && d.Grace.Value.ToTimeSpan() > TimeSpan.Zero)
            {
                // Cancel what is still running shortly before the agent's deadline, so that each task
                // reports its own failure (retryable) instead of dying with the process.
                var grace = d.Grace.Value.ToTimeSpan();
                graceTimer = new Timer(_ => CancelAll("the worker's drain grace period ended", true), null,
                    TimeSpan.FromTicks(grace.Ticks * 8 / 10), Timeout.InfiniteTimeSpan);
            }
            CheckDrained();
        }

        void CheckDrained()
        {
            if (draining && Volatile.Read(ref active) == 0)
            {
                exitCode = 0;
                done.Set();
            }
        }

        void CancelAll(string reason, bool retryable)
        {
            foreach (var ctx in running.Values) ctx.Cancel(reason, retryable);
        }

        /// <summary>Stops after the agent went away: cancels running tasks and fails waiting calls.</summary>
        void Stop(int code, string reason)
        {
            stopped = true;
            CancelAll(reason, true);
            foreach (var kv in calls) kv.Value.TrySetException(new WorkerStoppedException(reason));
            // Give handlers a moment to observe their cancellation; their reports may still get out.
            var sw = Stopwatch.StartNew();
            while (Volatile.Read(ref active) > 0 && sw.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(10);
            exitCode = code;
            done.Set();
        }

        void Reply(string callId, ConnectResponse m)
        {
            System.Threading.Tasks.TaskCompletionSource<ConnectResponse> tcs;
            if (calls.TryRemove(callId, out tcs)) tcs.TrySetResult(m);
            else Log("warn", "the agent answered call " + callId + ", which no task is waiting for");
        }

        internal string NextCallId() { return Interlocked.Increment(ref callSeq).ToString(CultureInfo.InvariantCulture); }

        /// <summary>Sends a request and blocks until the agent's reply to callId, or the task is cancelled.</summary>
        internal ConnectResponse Call(string callId, ConnectRequest request, TaskContext ctx)
        {
            var tcs = new System.Threading.Tasks.TaskCompletionSource<ConnectResponse>(System.Threading.Tasks.TaskCreationOptions.RunContinuationsAsynchronously);
            calls[callId] = tcs;
            try
            {
                if (stopped) throw new WorkerStoppedException("the worker lost its connection to the agent");
                Send(request);
                tcs.Task.Wait(ctx.CancellationToken);
                return tcs.Task.Result;
            }
            finally
            {
                System.Threading.Tasks.TaskCompletionSource<ConnectResponse> ignored;
                calls.TryRemove(callId, out ignored);
            }
        }

        internal void Send(ConnectRequest m)
        {
            try { channel.Send(m); }
            catch (IOException e) { throw new WorkerStoppedException("cannot write to the agent (stdout closed?): " + e.Message); }
        }

        void SendAll(List<ConnectRequest> ms)
        {
            try { channel.SendAll(ms); }
            catch (IOException e) { throw new WorkerStoppedException("cannot write to the agent (stdout closed?): " + e.Message); }
        }

        void TrySend(ConnectRequest m, string what)
        {
            try { Send(m); }
            catch (Exception e) { Log("warn", "could not " + what + ": " + e.Message); }
        }

        internal void LogError(string message) { Log("error", message); }

        void Log(string level, string message)
        {
            try
            {
                log.WriteLine(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture) + " " + level + " chorus-worker: " + message.Replace("\r", "\\r").Replace("\n", "\\n"));
                log.Flush();
            }
            catch (Exception) { } // nowhere left to log
        }
    }
}
