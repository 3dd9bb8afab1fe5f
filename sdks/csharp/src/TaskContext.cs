using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using Chorus.Worker.Protocol;

namespace Chorus.Worker
{
    /// <summary>One data dependency of a task; its bytes are read from the agent's file on first use.</summary>
    public sealed class TaskInput
    {
        readonly Data data;
        byte[] bytes;

        internal TaskInput(Input input)
        {
            ResultId = input.ResultId;
            data = input.Data ?? new Data();
        }

        /// <summary>Result id of the dependency.</summary>
        public string ResultId { get; private set; }

        /// <summary>Path of the file holding the data when the agent sent a file, else null.</summary>
        public string FilePath { get { return data.Path; } }

        /// <summary>The data.</summary>
        public byte[] Bytes
        {
            get
            {
                if (bytes == null) bytes = TaskContext.ReadData(data, "input " + ResultId);
                return bytes;
            }
        }
    }

    /// <summary>One output a handler returns: an expected output id and its bytes.</summary>
    public sealed class TaskOutput
    {
        public TaskOutput(string resultId, byte[] data)
        {
            if (string.IsNullOrEmpty(resultId)) throw new ArgumentException("an output needs a result id", "resultId");
            ResultId = resultId;
            Data = data ?? new byte[0];
        }

        public string ResultId { get; private set; }
        public byte[] Data { get; private set; }
    }

    /// <summary>A subtask to submit from a running task (see <see cref="TaskContext.Submit"/>).</summary>
    public sealed class NewTask
    {
        public NewTask(string method, byte[] payload)
        {
            if (string.IsNullOrEmpty(method)) throw new ArgumentException("a subtask needs a method", "method");
            Method = method;
            Payload = payload ?? new byte[0];
            DataDependencies = new List<string>();
            ExpectedOutputIds = new List<string>();
        }

        public string Method { get; private set; }
        public byte[] Payload { get; private set; }
        /// <summary>Results it reads, in order: results of the session or created by the parent.</summary>
        public List<string> DataDependencies { get; private set; }
        /// <summary>Results it must complete; one of the parent's own expected outputs hands it over.</summary>
        public List<string> ExpectedOutputIds { get; private set; }
        /// <summary>Its options; null takes the parent's.</summary>
        public SubtaskOptions Options { get; set; }
    }

    /// <summary>
    /// What a handler sees of its task: ids, payload, inputs, options, and calls back to the agent.
    /// Calls are safe from any thread of the handler.
    /// </summary>
    public sealed class TaskContext
    {
        readonly Worker worker;
        readonly AssignTask task;
        readonly CancellationTokenSource cts;
        readonly List<string> handed = new List<string>();
        byte[] payload;
        volatile string cancelReason;
        int outputFiles;

        internal TaskContext(Worker worker, AssignTask task, CancellationTokenSource cts)
        {
            this.worker = worker;
            this.task = task;
            this.cts = cts;
            var inputs = new List<TaskInput>(task.Inputs.Count);
            foreach (var i in task.Inputs) inputs.Add(new TaskInput(i));
            Inputs = inputs.AsReadOnly();
            ExpectedOutputIds = new List<string>(task.ExpectedOutputIds).AsReadOnly();
            Options = new Dictionary<string, string>(task.Options);
        }

        public string TaskId { get { return task.TaskId; } }
        public string SessionId { get { return task.SessionId; } }
        public string Method { get { return task.Method; } }
        public string Partition { get { return task.Partition; } }
        /// <summary>Attempt number, 1 for the first.</summary>
        public int Attempt { get { return task.Attempt; } }
        /// <summary>W3C traceparent of the task, to parent the handler's own spans.</summary>
        public string Traceparent { get { return task.Traceparent; } }
        public string Tracestate { get { return task.Tracestate; } }
        /// <summary>Longest the attempt may run; null means no limit. The token is cancelled past it.</summary>
        public TimeSpan? MaxDuration { get { return task.MaxDuration.HasValue ? task.MaxDuration.Value.ToTimeSpan() : (TimeSpan?)null; } }
        /// <summary>Folder where output files of this task go.</summary>
        public string OutputDir { get { return task.OutputDir; } }
        public IReadOnlyList<TaskInput> Inputs { get; private set; }
        /// <summary>Results the task must complete (or hand to a subtask).</summary>
        public IReadOnlyList<string> ExpectedOutputIds { get; private set; }
        public IDictionary<string, string> Options { get; private set; }

        /// <summary>Cancelled when the agent cancels the task, its max duration passes, or the worker stops.</summary>
        public CancellationToken CancellationToken { get { return cts.Token; } }

        /// <summary>Why the task was cancelled, or null.</summary>
        public string CancellationReason { get { return cancelReason; } }

        /// <summary>The payload (read from the agent's file on first use when it sent a path).</summary>
        public byte[] Payload
        {
            get
            {
                if (payload == null) payload = ReadData(task.Payload, "the payload");
                return payload;
            }
        }

        /// <summary>The payload decoded as UTF-8.</summary>
        public string PayloadText { get { return Encoding.UTF8.GetString(Payload); } }

        /// <summary>Whether the cancellation was the worker's own (drain deadline, lost agent): then another attempt may succeed.</summary>
        internal bool CancelRetryable { get; private set; }

        internal void Cancel(string reason, bool retryable = false)
        {
            lock (handed)
            {
                if (cancelReason != null) return;
                CancelRetryable = retryable;
                cancelReason = string.IsNullOrEmpty(reason) ? "cancelled" : reason;
            }
            try { cts.Cancel(); }
            catch (ObjectDisposedException) { }
            catch (AggregateException e) { worker.LogError("a cancellation callback of task " + TaskId + " failed: " + e.InnerException.Message); }
        }

        /// <summary>Throws OperationCanceledException when the task was cancelled.</summary>
        public void ThrowIfCancelled() { cts.Token.ThrowIfCancellationRequested(); }

        /// <summary>Reports how far the task is (fraction 0 to 1) with a free-form message.</summary>
        public void Progress(double fraction, string message)
        {
            worker.Send(new ConnectRequest { TaskProgress = new TaskProgress { TaskId = TaskId, Fraction = fraction, Message = message ?? "" } });
        }

        /// <summary>Creates a complete result holding data in the task's session and returns its id.</summary>
        public string CreateResult(byte[] data)
        {
            var ids = CreateResults(new List<NewResult> { new NewResult { Data = OutData(data) } });
            return ids[0];
        }

        /// <summary>Creates n results without data (to be outputs of subtasks) and returns their ids.</summary>
        public IList<string> CreateResults(int n)
        {
            var list = new List<NewResult>(n);
            for (int i = 0; i < n; i++) list.Add(new NewResult());
            return CreateResults(list);
        }

        /// <summary>Creates results as declared; blocks until the agent answers.</summary>
        public IList<string> CreateResults(IList<NewResult> results)
        {
            var req = new CreateResults { TaskId = TaskId, Results = new List<NewResult>(results) };
            var reply = worker.Call(req.CallId = worker.NextCallId(), new ConnectRequest { CreateResults = req }, this).CreateResultsReply;
            if (reply == null) throw new WorkerStoppedException("the agent answered CreateResults with another message");
            if (!string.IsNullOrEmpty(reply.Error)) throw new AgentRefusedException("the agent refused to create results: " + reply.Error);
            if (reply.ResultIds.Count != results.Count)
                throw new AgentRefusedException("the agent created " + reply.ResultIds.Count + " results, not " + results.Count);
            return reply.ResultIds;
        }

        /// <summary>
        /// Submits subtasks into the task's session and blocks until the agent answers with their ids.
        /// Expected outputs of this task listed by a subtask are handed to it: the handler then must not
        /// return them (a handler returning bytes completes only the outputs it did not hand over).
        /// </summary>
        public IList<string> Submit(params NewTask[] tasks)
        {
            var req = new SubmitTasks { TaskId = TaskId };
            var handing = new List<string>();
            foreach (var t in tasks)
            {
                var s = new Subtask
                {
                    Method = t.Method,
                    Payload = OutData(t.Payload),
                    DataDependencies = new List<string>(t.DataDependencies),
                    ExpectedOutputIds = new List<string>(t.ExpectedOutputIds),
                    Options = t.Options,
                };
                foreach (var id in t.ExpectedOutputIds)
                    if (task.ExpectedOutputIds.Contains(id)) handing.Add(id);
                req.Tasks.Add(s);
            }
            var reply = worker.Call(req.CallId = worker.NextCallId(), new ConnectRequest { SubmitTasks = req }, this).SubmitTasksReply;
            if (reply == null) throw new WorkerStoppedException("the agent answered SubmitTasks with another message");
            if (!string.IsNullOrEmpty(reply.Error)) throw new AgentRefusedException("the agent refused the subtasks: " + reply.Error);
            lock (handed) handed.AddRange(handing);
            return reply.TaskIds;
        }

        /// <summary>Expected outputs not handed to a subtask, in order.</summary>
        internal List<string> OwnOutputs()
        {
            var own = new List<string>();
            lock (handed)
            {
                foreach (var id in task.ExpectedOutputIds)
                    if (!handed.Contains(id)) own.Add(id);
            }
            return own;
        }

        /// <summary>Data for the agent: inline up to its inline limit, else a file in the output folder.</summary>
        internal Data OutData(byte[] bytes)
        {
            bytes = bytes ?? new byte[0];
            long limit = worker.InlineLimit;
            if (limit <= 0 || bytes.LongLength <= limit || string.IsNullOrEmpty(task.OutputDir)) return Data.FromBytes(bytes);
            string path = System.IO.Path.Combine(task.OutputDir, "output-" + Interlocked.Increment(ref outputFiles));
            try { File.WriteAllBytes(path, bytes); }
            catch (Exception e) { throw new IOException("cannot write " + bytes.LongLength + " bytes to the task's output file " + path + ": " + e.Message, e); }
            return Data.FromPath(path);
        }

        internal static byte[] ReadData(Data d, string what)
        {
            if (d == null) return new byte[0];
            if (d.SourceCase == Data.SourceOneofCase.Path)
            {
                try { return File.ReadAllBytes(d.Path); }
                catch (Exception e) { throw new RetryableException("cannot read " + what + " from the agent's file " + d.Path + ": " + e.Message, e); }
            }
            return d.Inline ?? new byte[0];
        }
    }
}
