import type { Config } from '../config/schema.ts';
import type { MetadataRules } from './site-metadata.ts';

/** The registry's rules for this deployment: in production every URI a site registers must be https. */
export function registryRules(config: Pick<Config, 'env'>): MetadataRules {
  return { requireHttps: config.env === 'production' };
}
