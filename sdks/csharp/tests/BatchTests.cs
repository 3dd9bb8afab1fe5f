using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using Chorus.Worker.Protocol;

namespace Chorus.Worker.Tests
{
    /// <summary>Batches on the stdio transport (issue 20): their proto3 JSON, the channel that builds them, and the worker.</summary>
    public static class BatchTests
    {
        static byte[] B(string s) { return Encoding.UTF8.GetBytes(s); }

        static ConnectRequest Pong(long n) { return new ConnectRequest { Pong = new Pong { Nonce = n } }; }

        [Test]
        public static void BatchesAndAcceptsBatchesHaveTheirCanonicalForm()
        {
            var hello = new ConnectRequest { Hello = new Hello { Token = "t", Capacity = 16, AcceptsBatches = true } };
            const string helloJson = "{\"hello\":{\"token\":\"t\",\"capacity\":16,\"acceptsBatches\":true}}";
            Assert.Equal(helloJson, hello.ToJson(), "Hello.acceptsBatches");
            Assert.True(ConnectRequest.Parse(helloJson).Hello.AcceptsBatches, "Hello.acceptsBatches parsed");
            var welcome = new ConnectResponse { Welcome = new Welcome { AgentId = "a", AcceptsBatches = true } };
            const string welcomeJson = "{\"welcome\":{\"agentId\":\"a\",\"acceptsBatches\":true}}";
            Assert.Equal(welcomeJson, welcome.ToJson(), "Welcome.acceptsBatches");
            Assert.True(ConnectResponse.Parse(welcomeJson).Welcome.AcceptsBatches, "Welcome.acceptsBatches parsed");
            Assert.True(ConnectResponse.Parse("{\"welcome\":{\"accepts_batches\":true}}").Welcome.AcceptsBatches, "accepts_batches (original name)");
            Assert.True(!ConnectResponse.Parse("{\"welcome\":{}}").Welcome.AcceptsBatches, "an older agent's Welcome accepts no batches");

            var req = new ConnectRequest { Batch = new RequestBatch { Messages = {
                new ConnectRequest { TaskCompleted = new TaskCompleted { TaskId = "k", Outputs = { new Output { ResultId = "r", Data = Data.FromBytes(B("x")) } } } },
                new ConnectRequest { TaskFailed = new TaskFailed { TaskId = "j", Message = "m", Retryable = true } },
                new ConnectRequest { TaskProgress = new TaskProgress { TaskId = "i", Fraction = 0.5 } },
                Pong(3) } } };
            const string reqJson = "{\"batch\":{\"messages\":[{\"taskCompleted\":{\"taskId\":\"k\",\"outputs\":[{\"resultId\":\"r\",\"data\":{\"inline\":\"eA==\"}}]}}," +
                "{\"taskFailed\":{\"taskId\":\"j\",\"message\":\"m\",\"retryable\":true}},{\"taskProgress\":{\"taskId\":\"i\",\"fraction\":0.5}},{\"pong\":{\"nonce\":\"3\"}}]}}";
            Assert.Equal(reqJson, req.ToJson(), "RequestBatch canonical text");
            Assert.Equal(reqJson, ConnectRequest.Parse(reqJson).ToJson(), "RequestBatch parsed and written again");
            Assert.Equal("{\"batch\":{}}", new ConnectRequest { Batch = new RequestBatch() }.ToJson(), "an empty batch");

            const string respJson = "{\"batch\":{\"messages\":[{\"assignTask\":{\"taskId\":\"t1\",\"method\":\"echo\"}},{\"cancelTask\":{\"taskId\":\"t1\",\"reason\":\"r\"}}," +
                "{\"ping\":{\"nonce\":\"5\"}},{\"drain\":{}}]}}";
            var resp = ConnectResponse.Parse(respJson);
            Assert.Equal(ConnectResponse.MessageOneofCase.Batch, resp.MessageCase, "ResponseBatch case");
            Assert.Equal(4, resp.Batch.Messages.Count, "messages");
            Assert.Equal("t1", resp.Batch.Messages[0].AssignTask.TaskId, "first message");
            Assert.Equal(ConnectResponse.MessageOneofCase.Drain, resp.Batch.Messages[3].MessageCase, "last message");
            Assert.Equal(respJson, resp.ToJson(), "ResponseBatch written again");
            Assert.Throws<ProtoJsonException>(() => ConnectResponse.Parse("{\"batch\":{\"messages\":[]},\"ping\":{}}"), "batch is one case of the oneof");
        }

        // A stream whose first write blocks until released, like a pipe the agent is slow to read.
        sealed class SlowPipe : Stream
        {
            readonly object mu = new object();
            readonly List<string> writes = new List<string>();
            bool released;
            public bool FailAfterFirst;

            public override void Write(byte[] buffer, int offset, int count)
            {
                lock (mu)
                {
                    writes.Add(Encoding.UTF8.GetString(buffer, offset, count));
                    Monitor.PulseAll(mu);
                    if (writes.Count == 1) while (!released) Monitor.Wait(mu);
                    else if (FailAfterFirst) throw new IOException("broken pipe");
                }
            }
            public void WaitFirst() { lock (mu) while (writes.Count == 0) Monitor.Wait(mu); }
            public void Release() { lock (mu) { released = true; Monitor.PulseAll(mu); } }
            public List<string> Writes { get { lock (mu) return new List<string>(writes); } }

            public override void Flush() { }
            public override bool CanRead { get { return false; } }
            public override bool CanSeek { get { return false; } }
            public override bool CanWrite { get { return true; } }
            public override long Length { get { throw new NotSupportedException(); } }
            public override long Position { get { throw new NotSupportedException(); } set { throw new NotSupportedException(); } }
            public override int Read(byte[] buffer, int offset, int count) { throw new NotSupportedException(); }
            public override long Seek(long offset, SeekOrigin origin) { throw new NotSupportedException(); }
            public override void SetLength(long value) { throw new NotSupportedException(); }
        }

        // Pong 1 is being written (the write blocks); pongs 2, 3, 4 queue behind it in that order; then
        // the write ends. Returns how many senders got an IOException.
        static int SendBehindABusyWrite(SlowPipe pipe, bool batches)
        {
            var ch = new StdioChannel(new MemoryStream(), pipe) { Batches = batches };
            int errors = 0;
            var threads = new List<Thread>();
            Action<long> send = n =>
            {
                var t = new Thread(() => { try { ch.Send(Pong(n)); } catch (IOException) { Interlocked.Increment(ref errors); } });
                t.Start();
                threads.Add(t);
            };
            send(1);
            pipe.WaitFirst();
            for (int n = 2; n <= 4; n++)
            {
                send(n);
                while (ch.Queued < n - 1) Thread.Yield(); // no deadline: the runner's hang guard covers it
            }
            pipe.Release();
            foreach (var t in threads) t.Join();
            Assert.Equal(0, ch.Queued, "nothing left queued");
            return errors;
        }

        [Test]
        public static void WhatQueuedBehindABusyWriteGoesOutAsOneBatchLine()
        {
            var pipe = new SlowPipe();
            Assert.Equal(0, SendBehindABusyWrite(pipe, true), "errors");
            var w = pipe.Writes;
            Assert.Equal(2, w.Count, "writes");
            Assert.Equal("{\"pong\":{\"nonce\":\"1\"}}\n", w[0], "a lone message goes out at once, unwrapped");
            Assert.Equal("{\"batch\":{\"messages\":[{\"pong\":{\"nonce\":\"2\"}},{\"pong\":{\"nonce\":\"3\"}},{\"pong\":{\"nonce\":\"4\"}}]}}\n", w[1],
                "the rest in one batch line, in the order queued");
        }

        [Test]
        public static void WithoutBatchesWhatQueuedGoesOutAsLinesInOneWrite()
        {
            var pipe = new SlowPipe();
            Assert.Equal(0, SendBehindABusyWrite(pipe, false), "errors");
            var w = pipe.Writes;
            Assert.Equal(2, w.Count, "writes");
            Assert.Equal("{\"pong\":{\"nonce\":\"2\"}}\n{\"pong\":{\"nonce\":\"3\"}}\n{\"pong\":{\"nonce\":\"4\"}}\n", w[1], "one line per message, one write");
        }

        [Test]
        public static void EverySenderInABrokenWriteGetsTheError()
        {
            var pipe = new SlowPipe { FailAfterFirst = true };
            Assert.Equal(3, SendBehindABusyWrite(pipe, true), "pongs 2, 3 and 4 were in the failed write");
        }

        [Test]
        public static void HelloSaysTheWorkerAcceptsBatches()
        {
            using (var w = new WorkerProcess())
                Assert.True(w.Hello.AcceptsBatches, "Hello.acceptsBatches");
        }

        static ConnectResponse Assign(WorkerProcess w, string id, string method, string payload)
        {
            string outDir = Path.Combine(w.Dir, "out-" + id);
            Directory.CreateDirectory(outDir);
            return new ConnectResponse { AssignTask = new AssignTask { SessionId = "s1", TaskId = id, Method = method, Payload = Data.FromBytes(B(payload)),
                Attempt = 1, ExpectedOutputIds = { "out-" + id }, OutputDir = outDir, Partition = "default" } };
        }

        [Test]
        public static void AssignmentsInABatchRunInOrder()
        {
            using (var w = new WorkerProcess())
            {
                var batch = new ResponseBatch();
                for (int i = 1; i <= 5; i++) batch.Messages.Add(Assign(w, "t" + i, "echo", "p" + i));
                w.Send(new ConnectResponse { Batch = batch });
                for (int i = 1; i <= 5; i++)
                {
                    var m = w.Next();
                    Assert.Equal(ConnectRequest.MessageOneofCase.TaskCompleted, m.MessageCase, "outcome " + i);
                    Assert.Equal("t" + i, m.TaskCompleted.TaskId, "capacity 1 runs them in batch order");
                    Assert.Bytes(B("p" + i), m.TaskCompleted.Outputs[0].Data.Inline, "echo");
                }
                Assert.Equal(0, w.BatchLines, "no batch: the Welcome did not accept batches");
            }
        }

        [Test]
        public static void CancelAfterItsAssignmentInOneBatchCancelsIt()
        {
            using (var w = new WorkerProcess())
            {
                w.Send(new ConnectResponse { Batch = new ResponseBatch { Messages = {
                    Assign(w, "s1", "sleep", "600000"),
                    new ConnectResponse { CancelTask = new CancelTask { TaskId = "s1", Reason = "cancelled by the client" } } } } });
                var m = w.Next();
                Assert.Equal(ConnectRequest.MessageOneofCase.TaskFailed, m.MessageCase, "outcome");
                Assert.Contains("cancelled by the client", m.TaskFailed.Message, "the cancel reason");
            }
        }

        static void PingsInOneBatch(bool accepts)
        {
            using (var w = new WorkerProcess(acceptsBatches: accepts))
            {
                var batch = new ResponseBatch();
                for (int i = 1; i <= 3; i++) batch.Messages.Add(new ConnectResponse { Ping = new Ping { Nonce = i } });
                w.Send(new ConnectResponse { Batch = batch });
                for (int i = 1; i <= 3; i++) Assert.Equal((long)i, w.Next().Pong.Nonce, "pong " + i);
                Assert.Equal(accepts ? 1 : 0, w.BatchLines, "batch lines");
            }
        }

        [Test]
        public static void PingsOfOneBatchAreAnsweredInOneBatch() { PingsInOneBatch(true); }

        [Test]
        public static void PingsOfOneBatchAreAnsweredOneByOneWhenTheAgentTakesNoBatches() { PingsInOneBatch(false); }

        // A busy worker: zero-work tasks at capacity 8, assigned in batches of 8. Every outcome arrives
        // once, batched or not; how many batches form depends on timing, so the test does not count them.
        static void Busy(bool accepts)
        {
            const int tasks = 400;
            using (var w = new WorkerProcess(capacity: 8, acceptsBatches: accepts))
            {
                for (int i = 0; i < tasks; i += 8)
                {
                    var batch = new ResponseBatch();
                    for (int j = i; j < i + 8; j++) batch.Messages.Add(Assign(w, "t" + j, "echo", j.ToString()));
                    w.Send(new ConnectResponse { Batch = batch });
                }
                var done = new HashSet<string>();
                while (done.Count < tasks)
                {
                    var m = w.Next();
                    Assert.Equal(ConnectRequest.MessageOneofCase.TaskCompleted, m.MessageCase, "outcome");
                    Assert.True(done.Add(m.TaskCompleted.TaskId), m.TaskCompleted.TaskId + " completed once");
                    Assert.Bytes(B(m.TaskCompleted.TaskId.Substring(1)), m.TaskCompleted.Outputs[0].Data.Inline, "echo of " + m.TaskCompleted.TaskId);
                }
                if (!accepts) Assert.Equal(0, w.BatchLines, "the worker batched although the Welcome said no");
            }
        }

        [Test]
        public static void BusyWorkerReportsEveryOutcomeOnceInBatches() { Busy(true); }

        [Test]
        public static void BusyWorkerNeverBatchesWhenTheAgentTakesNoBatches() { Busy(false); }
    }
}
