using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;

namespace Chorus.Worker.Tests
{
    /// <summary>Marks a public static method without parameters as a test.</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class TestAttribute : Attribute { }

    /// <summary>A failed expectation.</summary>
    public sealed class AssertionException : Exception
    {
        public AssertionException(string message) : base(message) { }
    }

    public static class Assert
    {
        public static void True(bool cond, string what)
        {
            if (!cond) throw new AssertionException(what);
        }

        public static void Equal<T>(T want, T got, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(want, got))
                throw new AssertionException(what + ": want " + Show(want) + ", got " + Show(got));
        }

        public static void Bytes(byte[] want, byte[] got, string what)
        {
            if (got == null || !want.SequenceEqual(got))
                throw new AssertionException(what + ": want " + want.Length + " bytes " + Hex(want) + ", got " + (got == null ? "null" : got.Length + " bytes " + Hex(got)));
        }

        public static void Seq<T>(IEnumerable<T> want, IEnumerable<T> got, string what)
        {
            if (got == null || !want.SequenceEqual(got))
                throw new AssertionException(what + ": want [" + string.Join(", ", want) + "], got " + (got == null ? "null" : "[" + string.Join(", ", got) + "]"));
        }

        public static void Contains(string needle, string hay, string what)
        {
            if (hay == null || hay.IndexOf(needle, StringComparison.Ordinal) < 0)
                throw new AssertionException(what + ": " + Show(hay) + " does not contain " + Show(needle));
        }

        /// <summary>Runs f and returns the exception of type T it must throw.</summary>
        public static T Throws<T>(Action f, string what) where T : Exception
        {
            try { f(); }
            catch (T e) { return e; }
            catch (Exception e) { throw new AssertionException(what + ": want " + typeof(T).Name + ", got " + e.GetType().Name + ": " + e.Message); }
            throw new AssertionException(what + ": want " + typeof(T).Name + ", nothing was thrown");
        }

        static string Hex(byte[] b)
        {
            var s = BitConverter.ToString(b.Take(32).ToArray());
            return b.Length > 32 ? s + "..." : s;
        }

        static string Show(object o)
        {
            if (o == null) return "null";
            if (o is string) return "\"" + o + "\"";
            return o.ToString();
        }
    }

    /// <summary>
    /// Console test runner: runs every [Test] method of this assembly (optionally only those whose name
    /// contains an argument), prints one line per failure, and ends with "N passed, N failed".
    /// </summary>
    public static class TestRunner
    {
        public static int Main(string[] args)
        {
            var filters = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
            bool verbose = args.Contains("--verbose");
            var tests = typeof(TestRunner).Assembly.GetTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
                .Where(m => m.GetCustomAttributes(typeof(TestAttribute), false).Length > 0)
                .OrderBy(m => m.DeclaringType.Name + "." + m.Name, StringComparer.Ordinal)
                .ToList();
            int passed = 0, failed = 0;
            foreach (var m in tests)
            {
                string name = m.DeclaringType.Name + "." + m.Name;
                if (filters.Length > 0 && !filters.Any(f => name.IndexOf(f, StringComparison.OrdinalIgnoreCase) >= 0)) continue;
                var sw = Stopwatch.StartNew();
                try
                {
                    m.Invoke(null, null);
                    passed++;
                    if (verbose) Console.WriteLine("ok   " + name + " (" + sw.ElapsedMilliseconds + " ms)");
                }
                catch (TargetInvocationException e)
                {
                    failed++;
                    var inner = e.InnerException;
                    Console.WriteLine("FAIL " + name + ": " + (inner is AssertionException ? inner.Message : inner.ToString()));
                }
            }
            Console.WriteLine(passed + " passed, " + failed + " failed");
            return failed == 0 && passed > 0 ? 0 : 1;
        }
    }
}
