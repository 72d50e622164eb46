using BenchmarkDotNet.Running;

// bench/micro.sh runs this with a filter and a short job; any BenchmarkDotNet arguments work here.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
