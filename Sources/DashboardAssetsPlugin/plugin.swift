import Foundation
import PackagePlugin

/// Compiles the dashboard's files (`Assets/` of the target it is applied to)
/// into the binary: one build command runs `DashboardAssetEmbedder`, which
/// writes them as Swift string literals into `DashboardAssets.swift` in the
/// plugin's work directory. The command reruns when any asset changes.
@main
struct DashboardAssetsPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = target.directoryURL.appending(path: "Assets")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { !$0.hasPrefix(".") }
            .sorted()
        let inputs = names.map { directory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "DashboardAssets.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(names.count) dashboard files",
                executable: try context.tool(named: "DashboardAssetEmbedder").url,
                arguments: [output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
