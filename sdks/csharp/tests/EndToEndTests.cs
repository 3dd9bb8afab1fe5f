using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Chorus.Worker.Protocol;

namespace Chorus.Worker.Tests
{
    /// <summary>The built example worker as a child process, over its stdin/stdout, with the real protocol.</summary>
    public static class EndToEndTests
    {
        static byte[] B(string s) { return Encoding.UTF8.GetBytes(s); }

        static TaskCompleted ExpectCompleted(WorkerProcess w, string taskId)
        {
            var m = w.Next();
            Assert.Equal(ConnectRequest.MessageOneofCase.TaskCompleted, m.MessageCase, "outcome of " + taskId + " (" + (m.TaskFailed != null ? m.TaskFailed.Message : "") + ")");
            Assert.Equal(taskId, m.TaskCompleted.TaskId, "completed task id");
            return m.TaskCompleted;
        }

        static byte[] SingleOutput(WorkerProcess w, string taskId)
        {
            var c = ExpectCompleted(w, taskId);
            Assert.Equal(1, c.Outputs.Count, "outputs of " + taskId);
            Assert.Equal("out-" + taskId, c.Outputs[0].ResultId, "output result id");
            var d = c.Outputs[0].Data;
            return d.SourceCase == Data.SourceOneofCase.Path ? File.ReadAllBytes(d.Path) : d.Inline;
        }

        static TaskFailed ExpectFailed(WorkerProcess w, string taskId)
        {
            var m = w.Next();
            Assert.Equal(ConnectRequest.MessageOneofCase.TaskFailed, m.MessageCase, "outcome of " + taskId);
            Assert.Equal(taskId, m.TaskFailed.TaskId, "failed task id");
            return m.TaskFailed;
        }

        [Test]
        public static void SaysHelloWithTokenMethodsAndCapacity()
        {
            using (var w = new WorkerProcess(capacity: 3, welcome: false, token: "tok-123"))
            {
                string line = w.NextLine();
                Assert.True(line.StartsWith("{\"hello\":{", StringComparison.Ordinal), "first line is a Hello in proto3 JSON: " + line);
                var h = ConnectRequest.Parse(line).Hello;
                Assert.Equal("tok-123", h.Token, "token");
                Assert.Equal("csharp", h.Language, "language");
                Assert.Equal(Worker.SdkVersion, h.SdkVersion, "sdkVersion");
                Assert.Seq(new[] { "concat", "echo", "fail", "fanout", "flaky", "sha256", "sleep" }, h.Methods, "methods");
                Assert.Equal(3, h.Capacity, "capacity from CHORUS_WORKER_CAPACITY");
                Assert.Equal(w.Pid, h.Pid, "pid");
            }
        }

        [Test]
        public static void RunsEchoSha256AndFail()
        {
            using (var w = new WorkerProcess())
            {
                var binary = new byte[] { 0, 1, 2, 0xff, 0xfe, (byte)'\n', (byte)'"' };
                w.Assign("e1", "echo", binary);
                Assert.Bytes(binary, SingleOutput(w, "e1"), "echo of binary bytes");
                w.Assign("e2", "echo", new byte[0]);
                Assert.Bytes(new byte[0], SingleOutput(w, "e2"), "echo of nothing");
                w.Assign("h1", "sha256", B("abc"));
                Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Encoding.ASCII.GetString(SingleOutput(w, "h1")), "sha256 of abc");
                w.Assign("h2", "sha256", new byte[0]);
                Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Encoding.ASCII.GetString(SingleOutput(w, "h2")), "sha256 of nothing");
                string msg = "disk \"full\"\n on /dev/sda — ünïcødé 😀";
                w.Assign("f1", "fail", B(msg));
                var f = ExpectFailed(w, "f1");
                Assert.Equal(msg, f.Message, "fail's message is its payload, unchanged");
                Assert.True(!f.Retryable, "fail (a PermanentException) is not retryable");
                // A plain exception is retryable by default: the agent retries it up to max retries.
                w.Assign("k1", "flaky", B("again"));
                var k = ExpectFailed(w, "k1");
                Assert.Equal("flaky: attempt 1 fails on purpose", k.Message, "flaky's first attempt fails");
                Assert.True(k.Retryable, "an uncaught plain exception is retryable");
                w.Assign("k2", "flaky", B("again"), a => a.Attempt = 2);
                Assert.Bytes(B("again"), SingleOutput(w, "k2"), "flaky's second attempt echoes");
                w.Assign("u1", "nosuch", new byte[0]);
                var u = ExpectFailed(w, "u1");
                Assert.Contains("does not serve method \"nosuch\"", u.Message, "unknown method");
                Assert.True(!u.Retryable, "unknown method is not retryable");
                w.Assign("s1", "sleep", B("x"));
                Assert.Contains("sleep: the payload must be a number", ExpectFailed(w, "s1").Message, "bad sleep payload");
            }
        }

        [Test]
        public static void AnswersPingsWhileATaskRuns()
        {
            using (var w = new WorkerProcess())
            {
                w.Assign("s1", "sleep", B("600000"));
                w.Send(new ConnectResponse { Ping = new Ping { Nonce = 9007199254740993 } });
                var p = w.Next();
                Assert.Equal(ConnectRequest.MessageOneofCase.Pong, p.MessageCase, "answer to a ping");
                Assert.Equal(9007199254740993L, p.Pong.Nonce, "nonce echoed exactly");
                w.Send(new ConnectResponse { CancelTask = new CancelTask { TaskId = "s1", Reason = "cancelled by the client" } });
                ExpectFailed(w, "s1");
            }
        }

        [Test]
        public static void SleepFinishesAndCancelStopsIt()
        {
            using (var w = new WorkerProcess())
            {
                w.Assign("s1", "sleep", B("20"));
                Assert.Bytes(B("20"), SingleOutput(w, "s1"), "sleep returns its payload");
                w.Assign("s2", "sleep", B("600000"));
                w.Send(new ConnectResponse { CancelTask = new CancelTask { TaskId = "s2", Reason = "cancelled by the client" } });
                var f = ExpectFailed(w, "s2");
                Assert.Contains("cancelled by the client", f.Message, "the cancel reason reaches the failure");
                // A cancel for a task that is not running is ignored, and the worker goes on.
                w.Send(new ConnectResponse { CancelTask = new CancelTask { TaskId = "gone", Reason = "late" } });
                w.Assign("e1", "echo", B("still here"));
                Assert.Bytes(B("still here"), SingleOutput(w, "e1"), "echo after a cancel");
            }
        }

        [Test]
        public static void MaxDurationCancelsTheTask()
        {
            using (var w = new WorkerProcess())
            {
                w.Assign("s1", "sleep", B("600000"), a => a.MaxDuration = new ProtoDuration(0, 100000000));
                Assert.Contains("max duration", ExpectFailed(w, "s1").Message, "a task past its max duration is cancelled");
            }
        }

        [Test]
        public static void CapacityRunsTasksConcurrently()
        {
            using (var w = new WorkerProcess(capacity: 2))
            {
                // With room for two, an echo completes while a long sleep is still running.
                w.Assign("s1", "sleep", B("600000"));
                w.Assign("e1", "echo", B("beside"));
                Assert.Bytes(B("beside"), SingleOutput(w, "e1"), "echo beside a running sleep");
                w.Send(new ConnectResponse { CancelTask = new CancelTask { TaskId = "s1", Reason = "done" } });
                ExpectFailed(w, "s1");
            }
        }

        [Test]
        public static void LargeDataTravelsAsFiles()
        {
            using (var w = new WorkerProcess(inlineLimit: 1024))
            {
                var big = new byte[5000];
                new Random(3).NextBytes(big);
                string inFile = Path.Combine(w.Dir, "payload.bin");
                File.WriteAllBytes(inFile, big);
                w.Assign("e1", "echo", null, a => a.Payload = Data.FromPath(inFile));
                var c = ExpectCompleted(w, "e1");
                var d = c.Outputs[0].Data;
                Assert.Equal(Data.SourceOneofCase.Path, d.SourceCase, "an output above the inline limit is a file");
                Assert.True(d.Path.StartsWith(Path.Combine(w.Dir, "out-e1"), StringComparison.Ordinal), "the file is under the task's output folder: " + d.Path);
                Assert.Bytes(big, File.ReadAllBytes(d.Path), "the file holds the payload read from the agent's file");
                w.Assign("e2", "echo", new byte[1024]);
                Assert.Equal(Data.SourceOneofCase.Inline, ExpectCompleted(w, "e2").Outputs[0].Data.SourceCase, "data at the limit stays inline");
            }
        }

        [Test]
        public static void ConcatJoinsInputsInOrder()
        {
            using (var w = new WorkerProcess())
            {
                string f = Path.Combine(w.Dir, "second");
                File.WriteAllBytes(f, B("-two-"));
                w.Assign("c1", "concat", new byte[0], a =>
                {
                    a.Inputs.Add(new Input { ResultId = "r1", Data = Data.FromBytes(B("one")) });
                    a.Inputs.Add(new Input { ResultId = "r2", Data = Data.FromPath(f) });
                    a.Inputs.Add(new Input { ResultId = "r3", Data = Data.FromBytes(B("three")) });
                });
                Assert.Equal("one-two-three", Encoding.UTF8.GetString(SingleOutput(w, "c1")), "concatenation");
            }
        }

        [Test]
        public static void FanoutCreatesResultsSubmitsSubtasksAndHandsItsOutputOver()
        {
            using (var w = new WorkerProcess())
            {
                w.Assign("f1", "fanout", B("3"));
                var cr = w.Next().CreateResults;
                Assert.True(cr != null, "fanout first creates results");
                Assert.Equal("f1", cr.TaskId, "create results for the running task");
                Assert.Equal(3, cr.Results.Count, "one result per subtask");
                Assert.True(cr.Results.All(r => r.Data == null && r.ResultId == ""), "results without data, ids chosen by the agent");
                Assert.True(cr.CallId != "", "a call id");
                w.Send(new ConnectResponse { CreateResultsReply = new CreateResultsReply { CallId = cr.CallId, ResultIds = { "r0", "r1", "r2" } } });
                var st = w.Next().SubmitTasks;
                Assert.True(st != null, "then submits subtasks");
                Assert.Equal("f1", st.TaskId, "subtasks of the running task");
                Assert.True(st.CallId != "" && st.CallId != cr.CallId, "a fresh call id");
                Assert.Equal(4, st.Tasks.Count, "3 sha256 and a reducer");
                for (int i = 0; i < 3; i++)
                {
                    Assert.Equal("sha256", st.Tasks[i].Method, "subtask method");
                    Assert.Bytes(B(i.ToString()), st.Tasks[i].Payload.Inline, "subtask payload");
                    Assert.Seq(new[] { "r" + i }, st.Tasks[i].ExpectedOutputIds, "subtask output");
                }
                Assert.Equal("concat", st.Tasks[3].Method, "reducer method");
                Assert.Seq(new[] { "r0", "r1", "r2" }, st.Tasks[3].DataDependencies, "reducer reads the outputs in order");
                Assert.Seq(new[] { "out-f1" }, st.Tasks[3].ExpectedOutputIds, "the fanout hands its own output to the reducer");
                w.Send(new ConnectResponse { SubmitTasksReply = new SubmitTasksReply { CallId = st.CallId, TaskIds = { "t0", "t1", "t2", "t3" } } });
                var c = ExpectCompleted(w, "f1");
                Assert.Equal(0, c.Outputs.Count, "the handed-over output is not returned");
            }
        }

        [Test]
        public static void ARefusedCallFailsTheTask()
        {
            using (var w = new WorkerProcess())
            {
                w.Assign("f1", "fanout", B("2"));
                var cr = w.Next().CreateResults;
                w.Send(new ConnectResponse { CreateResultsReply = new CreateResultsReply { CallId = cr.CallId, Error = "session s1 is closed" } });
                var f = ExpectFailed(w, "f1");
                Assert.Contains("session s1 is closed", f.Message, "the agent's refusal reaches the failure");
            }
        }

        [Test]
        public static void CancelReachesATaskWaitingForAReply()
        {
            using (var w = new WorkerProcess())
            {
                w.Assign("f1", "fanout", B("2"));
                Assert.True(w.Next().CreateResults != null, "fanout waits on CreateResults");
                w.Send(new ConnectResponse { CancelTask = new CancelTask { TaskId = "f1", Reason = "session cancelled" } });
                Assert.Contains("session cancelled", ExpectFailed(w, "f1").Message, "cancelled while waiting");
            }
        }

        [Test]
        public static void DrainFinishesRunningTasksThenExitsZero()
        {
            using (var w = new WorkerProcess(capacity: 2))
            {
                w.Assign("s1", "sleep", B("300"));
                w.Assign("s2", "sleep", B("200"));
                w.Send(new ConnectResponse { Drain = new Drain { Grace = new ProtoDuration(60, 0) } });
                var done = new HashSet<string>();
                for (int i = 0; i < 2; i++)
                {
                    var m = w.Next();
                    Assert.True(m.TaskCompleted != null, "running tasks complete after a drain: " + m.ToJson());
                    done.Add(m.TaskCompleted.TaskId);
                }
                Assert.True(done.SetEquals(new[] { "s1", "s2" }), "both tasks completed");
                Assert.Equal(0, w.WaitExit(), "exit code after a drain");
            }
        }

        [Test]
        public static void DrainGraceCancelsWhatIsStillRunning()
        {
            using (var w = new WorkerProcess())
            {
                w.Assign("s1", "sleep", B("600000"));
                w.Send(new ConnectResponse { Drain = new Drain { Grace = new ProtoDuration(0, 200000000) } });
                var f = ExpectFailed(w, "s1");
                Assert.True(f.Retryable, "a task cut by the drain deadline may run again elsewhere");
                Assert.Equal(0, w.WaitExit(), "exit code after a drain");
            }
        }

        [Test]
        public static void ExitsWhenTheAgentGoesAway()
        {
            using (var w = new WorkerProcess())
            {
                w.Assign("s1", "sleep", B("600000"));
                w.CloseStdin();
                Assert.True(ExpectFailed(w, "s1").Retryable, "the running task reports a retryable failure");
                Assert.Equal(1, w.WaitExit(), "exit code when stdin closes without a drain");
                Assert.Contains("closed the worker's stdin", w.Stderr, "the log says why");
            }
        }

        [Test]
        public static void RefusesToStartWithoutAToken()
        {
            using (var w = new WorkerProcess(token: "", welcome: false))
            {
                Assert.Equal(2, w.WaitExit(), "exit code without CHORUS_WORKER_TOKEN");
                Assert.Contains("CHORUS_WORKER_TOKEN is not set", w.Stderr, "the log says what is missing");
            }
        }

        [Test]
        public static void AcceptsOriginalFieldNamesFromTheAgent()
        {
            using (var w = new WorkerProcess())
            {
                // Raw line with proto field names and an unknown field, as another protojson writer may send.
                string dir = Path.Combine(w.Dir, "o");
                Directory.CreateDirectory(dir);
                w.SendRaw("{\"assign_task\":{\"task_id\":\"t9\",\"session_id\":\"s\",\"method\":\"echo\",\"payload\":{\"inline\":\"aGk\"},\"expected_output_ids\":[\"out-t9\"],\"output_dir\":\"" + dir + "\",\"new_field\":[1]}}");
                Assert.Bytes(B("hi"), SingleOutput(w, "t9"), "echo through snake_case names");
            }
        }
    }
}
