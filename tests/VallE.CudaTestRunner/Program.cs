using System.Reflection;
using NUnit.Framework.Api;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

namespace VallE.CudaTestRunner;

/// <summary>
/// <c>dotnet VallE.CudaTestRunner.dll [regex]</c>: runs the tests of VallE.Tests whose full name matches the regex
/// (default: the CUDA namespace) with NUnit's in-process runner, prints failures and skips with their messages and
/// a summary line, and exits with the number of failed tests, counting a test skipped for lack of a CUDA device as
/// failed (on a GPU machine that skip is the failure).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string pattern = args.Length > 0 ? args[0] : @"^VallE\.Tests\.(Cuda|Backends)\.";
        Assembly tests = typeof(VallE.Tests.Support.TestPaths).Assembly;
        var runner = new NUnitTestAssemblyRunner(new DefaultTestAssemblyBuilder());
        runner.Load(tests, new Dictionary<string, object>());
        var filter = TestFilter.FromXml($"<filter><test re=\"1\">{System.Security.SecurityElement.Escape(pattern)}</test></filter>");
        var listener = new Listener();
        ITestResult result = runner.Run(listener, filter);
        Console.WriteLine($"cuda-test-runner: {listener.Passed} passed, {listener.Failed} failed, {listener.Skipped} skipped " +
                          $"({listener.NoDevice} for lack of a CUDA device); overall {result.ResultState}");
        return listener.Failed + listener.NoDevice;
    }

    private sealed class Listener : ITestListener
    {
        public int Passed, Failed, Skipped, NoDevice;

        public void TestStarted(ITest test) { }

        public void TestFinished(ITestResult result)
        {
            if (result.Test.IsSuite) return;
            switch (result.ResultState.Status)
            {
                case TestStatus.Passed:
                    Passed++;
                    break;
                case TestStatus.Skipped or TestStatus.Inconclusive:
                    Skipped++;
                    if (result.Message?.Contains("no CUDA device", StringComparison.Ordinal) == true) NoDevice++;
                    Console.WriteLine($"SKIP {result.FullName}: {result.Message}");
                    break;
                default:
                    Failed++;
                    Console.WriteLine($"FAIL {result.FullName}: {result.Message}");
                    if (!string.IsNullOrEmpty(result.StackTrace)) Console.WriteLine(result.StackTrace);
                    break;
            }
        }

        public void TestOutput(TestOutput output) => Console.Write(output.Text);

        public void SendMessage(TestMessage message) { }
    }
}
