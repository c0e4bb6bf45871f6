export declare function writeYamlParser(root: string, outDir: string): Promise<void>;
