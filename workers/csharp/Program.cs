// The C# example worker: serves the conformance methods every Chorus example worker serves (echo,
// sha256, fail, sleep, fanout and its reducer concat) over the agent's stdio transport. The agent
// starts it as `mono chorus-worker-csharp.exe` with CHORUS_WORKER_TOKEN (and optionally
// CHORUS_WORKER_CAPACITY) in its environment.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using Chorus.Worker;

static class Program
{
    static int Main()
    {
        WorkerOptions options;
        try { options = WorkerOptions.FromEnvironment(); }
        catch (ArgumentException e) { Console.Error.WriteLine("chorus-worker-csharp: " + e.Message); return 2; }
        var worker = new Worker(options);
        worker.Handle("echo", ctx => ctx.Payload);
        worker.Handle("sha256", ctx => Encoding.ASCII.GetBytes(Sha256Hex(ctx.Payload)));
        worker.Handle("fail", ctx => { throw new PermanentException(ctx.PayloadText); }); // the conformance fail is final
        // flaky fails its first attempt with a plain exception, retryable by default, then echoes.
        worker.Handle("flaky", ctx =>
        {
            if (ctx.Attempt == 1) throw new InvalidOperationException("flaky: attempt 1 fails on purpose");
            return ctx.Payload;
        });
        worker.Handle("sleep", ctx =>
        {
            int ms = Count(ctx, "sleep", "a number of milliseconds");
            if (ctx.CancellationToken.WaitHandle.WaitOne(ms / 2)) ctx.ThrowIfCancelled();
            ctx.Progress(0.5, "half way");
            if (ctx.CancellationToken.WaitHandle.WaitOne(ms - ms / 2)) ctx.ThrowIfCancelled();
            return ctx.Payload;
        });
        worker.Handle("fanout", Fanout);
        worker.Handle("concat", ctx =>
        {
            var all = new MemoryStream();
            foreach (var input in ctx.Inputs) all.Write(input.Bytes, 0, input.Bytes.Length);
            return all.ToArray();
        });
        return worker.Run();
    }

    // fanout N: N sha256 subtasks on "0".."N-1", each completing a new result, and a concat reducer
    // over those results in order, to which this task hands its own expected output.
    static byte[] Fanout(TaskContext ctx)
    {
        int n = Count(ctx, "fanout", "a count of subtasks");
        if (ctx.ExpectedOutputIds.Count != 1)
            throw new PermanentException("fanout: the task must have exactly one expected output, it has " + ctx.ExpectedOutputIds.Count);
        var ids = ctx.CreateResults(n);
        var tasks = new List<NewTask>(n + 1);
        for (int i = 0; i < n; i++)
        {
            var t = new NewTask("sha256", Encoding.ASCII.GetBytes(i.ToString(CultureInfo.InvariantCulture)));
            t.ExpectedOutputIds.Add(ids[i]);
            tasks.Add(t);
        }
        var reduce = new NewTask("concat", null);
        reduce.DataDependencies.AddRange(ids);
        reduce.ExpectedOutputIds.Add(ctx.ExpectedOutputIds[0]);
        tasks.Add(reduce);
        ctx.Submit(tasks.ToArray());
        return null; // the output was handed to the reducer
    }

    static int Count(TaskContext ctx, string method, string what)
    {
        int n;
        if (!int.TryParse(ctx.PayloadText, NumberStyles.None, CultureInfo.InvariantCulture, out n))
            throw new PermanentException(method + ": the payload must be " + what + " in ASCII digits, got \"" + ctx.PayloadText + "\"");
        return n;
    }

    static string Sha256Hex(byte[] data)
    {
        using (var sha = SHA256.Create())
        {
            var sum = sha.ComputeHash(data);
            var hex = new StringBuilder(sum.Length * 2);
            foreach (var b in sum) hex.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            return hex.ToString();
        }
    }
}
