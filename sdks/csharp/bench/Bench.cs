// Zero-work throughput of the C# example worker over the stdio transport, driven by this program
// acting as the agent: empty echo tasks, `capacity` of them in flight at once (as the agent keeps
// them), for one worker process at several capacities. Also the SDK's codec cost per message.
// With batches (Welcome.acceptsBatches), this agent sends the assignments it has ready at once as one
// batch line, as the real agent does on a busy stream, and the worker batches its outcomes.
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using Chorus.Worker;
using Chorus.Worker.Protocol;

static class Bench
{
    static int Main(string[] args)
    {
        int tasks = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20000;
        string exe = Environment.GetEnvironmentVariable("CHORUS_CSHARP_WORKER");
        if (string.IsNullOrEmpty(exe)) { Console.Error.WriteLine("set CHORUS_CSHARP_WORKER to the built example worker"); return 2; }
        Codec();
        Console.WriteLine("zero-work echo tasks through one worker process over stdio (" + tasks + " tasks after 2000 warm-up):");
        foreach (bool batches in new[] { false, true })
            foreach (int cap in new[] { 1, 2, 4, 8, 16 }) Throughput(exe, cap, tasks, batches);
        return 0;
    }

    static void Codec()
    {
        var assign = new ConnectResponse { AssignTask = new AssignTask { SessionId = "s0123456789", TaskId = "t0123456789abcdef", Method = "echo",
            Payload = Data.FromBytes(new byte[0]), ExpectedOutputIds = { "r0123456789abcdef" }, Attempt = 1, OutputDir = "/tmp/chorus/w1/t0123456789abcdef",
            Partition = "default", Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } };
        string assignLine = assign.ToJson();
        var done = new ConnectRequest { TaskCompleted = new TaskCompleted { TaskId = "t0123456789abcdef",
            Outputs = { new Output { ResultId = "r0123456789abcdef", Data = Data.FromBytes(new byte[0]) } } } };
        const int n = 200000;
        for (int i = 0; i < 20000; i++) { ConnectResponse.Parse(assignLine); done.ToJson(); }
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) ConnectResponse.Parse(assignLine);
        double parse = sw.Elapsed.TotalMilliseconds * 1000 / n;
        sw.Restart();
        for (int i = 0; i < n; i++) done.ToJson();
        double write = sw.Elapsed.TotalMilliseconds * 1000 / n;
        Console.WriteLine("codec: parse AssignTask " + parse.ToString("F2", CultureInfo.InvariantCulture) + " µs, write TaskCompleted "
            + write.ToString("F2", CultureInfo.InvariantCulture) + " µs (" + assignLine.Length + "-byte line)");
    }

    static void Throughput(string exe, int capacity, int tasks, bool batches)
    {
        string dir = Path.Combine(Path.GetTempPath(), "chorus-csharp-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var psi = new ProcessStartInfo(exe.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? "dotnet" : "mono", "\"" + exe + "\"")
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        psi.EnvironmentVariables["CHORUS_WORKER_TOKEN"] = "bench";
        psi.EnvironmentVariables["CHORUS_WORKER_CAPACITY"] = capacity.ToString(CultureInfo.InvariantCulture);
        using (var proc = Process.Start(psi))
        {
            proc.ErrorDataReceived += (s, e) => { };
            proc.BeginErrorReadLine();
            var ch = new StdioChannel(proc.StandardOutput.BaseStream, proc.StandardInput.BaseStream);
            ConnectRequest.Parse(ch.ReadLine()); // Hello
            ch.WriteLine(new ConnectResponse { Welcome = new Welcome { AgentId = "bench", WorkerId = "w1", WorkDir = dir, InlineLimitBytes = 65536, AcceptsBatches = batches } }.ToJson());
            Run(ch, capacity, 2000, "warm", batches);
            double cpu0 = CpuSeconds(proc.Id);
            var sw = Stopwatch.StartNew();
            int batchLines = Run(ch, capacity, tasks, "run", batches);
            var wall = sw.Elapsed;
            double cpu = CpuSeconds(proc.Id) - cpu0;
            ch.WriteLine(new ConnectResponse { Drain = new Drain() }.ToJson());
            proc.WaitForExit();
            double rate = tasks / wall.TotalSeconds;
            Console.WriteLine("  " + (batches ? "batches   " : "no batches") + " capacity " + capacity.ToString().PadLeft(2) + ": "
                + rate.ToString("F0", CultureInfo.InvariantCulture) + " tasks/s, "
                + (wall.TotalMilliseconds * 1000 / tasks).ToString("F1", CultureInfo.InvariantCulture) + " µs wall per task, worker CPU "
                + (cpu * 1e6 / tasks).ToString("F1", CultureInfo.InvariantCulture) + " µs per task"
                + (batches ? ", " + batchLines + " batch lines from the worker" : ""));
        }
        Directory.Delete(dir, true);
    }

    // User + system CPU seconds of a process from /proc (Linux; clock ticks of 1/100 s).
    static double CpuSeconds(int pid)
    {
        string stat = File.ReadAllText("/proc/" + pid + "/stat");
        var f = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
        return (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    // Keeps `window` tasks in flight: a new assignment for each completion, like the agent. With
    // batches, the assignments for every slot free at that moment go out as one batch line. Returns
    // the batch lines the worker sent.
    static int Run(StdioChannel ch, int window, int tasks, string prefix, bool batches)
    {
        var slots = new SemaphoreSlim(window);
        int completed = 0, batchLines = 0;
        var reader = new Thread(() =>
        {
            while (completed < tasks)
            {
                var m = ConnectRequest.Parse(ch.ReadLine());
                if (m.Batch != null)
                {
                    batchLines++;
                    foreach (var inner in m.Batch.Messages) Completed(inner);
                    slots.Release(m.Batch.Messages.Count);
                    completed += m.Batch.Messages.Count;
                    continue;
                }
                Completed(m);
                completed++;
                slots.Release();
            }
        });
        reader.Start();
        var batch = new ResponseBatch();
        for (int i = 0; i < tasks;)
        {
            slots.Wait();
            batch.Messages.Clear();
            do
            {
                batch.Messages.Add(new ConnectResponse { AssignTask = new AssignTask { SessionId = "s1", Method = "echo", Payload = Data.FromBytes(new byte[0]),
                    Attempt = 1, Partition = "default", TaskId = prefix + i, ExpectedOutputIds = { "r" + prefix + i } } });
                i++;
            } while (batches && i < tasks && slots.Wait(0));
            ch.WriteLine(batch.Messages.Count == 1 ? batch.Messages[0].ToJson() : new ConnectResponse { Batch = batch }.ToJson());
        }
        reader.Join();
        return batchLines;
    }

    static void Completed(ConnectRequest m)
    {
        if (m.TaskCompleted == null) throw new InvalidOperationException("unexpected message " + m.ToJson());
    }
}
