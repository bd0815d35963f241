using System.CommandLine;
using Loyalty.Cli.Commands;

var root = new RootCommand("loyalty — the Loyalty.Sdk command-line tool: simulate a shop, replay real event histories, check program definitions.");
root.Subcommands.Add(SimulateCommand.Create());
root.Subcommands.Add(ReplayCommand.Create());
root.Subcommands.Add(ProgramCommand.Create());
root.Subcommands.Add(ClvCommand.Create());
root.Subcommands.Add(IdentityCommand.Create());
root.Subcommands.Add(RulesCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
