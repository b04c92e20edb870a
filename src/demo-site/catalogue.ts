/**
 * What the demo member site sells: free items, paid items and a 19+ section (one item paid, one free). Prices in KRW
 * (no minor digits).
 */
export interface Item {
  id: string;
  title: string;
  section: 'free' | 'paid' | 'adult';
  /** 0: free. Otherwise the price in minor units of the site's currency. */
  price: number;
  /** Free items only: true when a logged-in member may read it, false when anyone may. */
  membersOnly?: boolean;
  /**
   * The age it needs, which the card manager checks (refusing younger holders): a paid item's payment request carries it
   * as authorization_details `rating`, a free one's log-in as a claims request for age_over_19 (the demo is unrated).
   */
  rating?: '19';
  /** What the holder gets once the resource server lets them in. */
  content: string;
}

export const CATALOGUE: readonly Item[] = [
  { id: 'trailer', title: 'Season trailer', section: 'free', price: 0, content: 'Ninety seconds of what is coming this season.' },
  { id: 'newsletter', title: 'Members’ newsletter', section: 'free', price: 0, membersOnly: true, content: 'This month: behind the scenes of episode 1.' },
  { id: 'episode-1', title: 'Episode 1: The Card', section: 'paid', price: 1500, content: 'Episode 1 is playing. Enjoy the show.' },
  { id: 'album', title: 'Soundtrack album', section: 'paid', price: 3000, content: 'Twelve tracks, ready to play.' },
  { id: 'late-night', title: 'Late-night special', section: 'adult', price: 2500, rating: '19', content: 'The late-night special is playing.' },
  { id: 'late-night-trailer', title: 'Late-night trailer', section: 'adult', price: 0, rating: '19', content: 'A first look at the late-night special, free for adults.' },
];

export function findItem(id: string): Item | undefined {
  return CATALOGUE.find((i) => i.id === id);
}

/** ₩1,500 */
export function price(amount: number, currency: string): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(amount);
}
