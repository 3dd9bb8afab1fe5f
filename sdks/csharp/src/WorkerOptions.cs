using System;
using System.Globalization;
using System.IO;

namespace Chorus.Worker
{
    /// <summary>Settings of a <see cref="Worker"/>. Every field has a default; see each one.</summary>
    public sealed class WorkerOptions
    {
        /// <summary>Token the agent put in CHORUS_WORKER_TOKEN. Required.</summary>
        public string Token = "";

        /// <summary>Tasks run at once, each on its own thread. Default 1.</summary>
        public int Capacity = 1;

        /// <summary>Stream the agent's messages arrive on. Default: the process's standard input.</summary>
        public Stream Input;

        /// <summary>
        /// Stream the worker's messages go to. Default: the process's standard output, in which case
        /// Console.Out is redirected to standard error so that stray prints cannot break the protocol.
        /// </summary>
        public Stream Output;

        /// <summary>Where log lines go. Default: standard error.</summary>
        public TextWriter Log;

        /// <summary>Whether to log every task start and end (noisy). Default false.</summary>
        public bool Verbose;

        /// <summary>
        /// Options from the environment the agent sets: CHORUS_WORKER_TOKEN, and CHORUS_WORKER_CAPACITY
        /// (default 1). Throws ArgumentException naming a variable whose value is not valid.
        /// </summary>
        public static WorkerOptions FromEnvironment()
        {
            var o = new WorkerOptions();
            o.Token = Environment.GetEnvironmentVariable("CHORUS_WORKER_TOKEN") ?? "";
            string cap = Environment.GetEnvironmentVariable("CHORUS_WORKER_CAPACITY");
            if (!string.IsNullOrEmpty(cap))
            {
                int n;
                if (!int.TryParse(cap, NumberStyles.None, CultureInfo.InvariantCulture, out n) || n < 1)
                    throw new ArgumentException("CHORUS_WORKER_CAPACITY must be a whole number of tasks of at least 1, not \"" + cap + "\"");
                o.Capacity = n;
            }
            o.Verbose = Environment.GetEnvironmentVariable("CHORUS_WORKER_VERBOSE") == "1";
            return o;
        }
    }
}
