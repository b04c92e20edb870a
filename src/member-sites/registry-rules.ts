import type { Config } from '../config/schema.ts';
import type { MetadataRules } from './site-metadata.ts';

/** The registry's rules for this deployment: in production every URI a site registers must be https; ratings as configured. */
export function registryRules(config: Pick<Config, 'env' | 'ratings'>): MetadataRules {
  return { requireHttps: config.env === 'production', ratings: config.ratings };
}
