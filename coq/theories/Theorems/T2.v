(* Theorem T2 of THEORY.md section 5 (tight bound on the number of machine
   parameters where a bias network is not differentiable), following the proof
   sketch "Counting (T2)" of section 6 and FORMAL_PLAN.md "Counting".
   Bound: |ndf_M(f)| <= n |M|^(W-1) for well-formed bias networks (union bound
   over (neuron, kink) pairs, fibre lemma along the bias, NoKink.v).
   Tightness: the family of N neurons y_k = b_k with constant non-zero output
   weights c_k, f(b) = sum_k c_k * sigma(b_k), first as a function, then as a
   bias network built with the constructors of Network.v.  Last section: the
   family with output weights as parameters and an output bias
   (T2_tightness_output_params). *)
From Coq Require Import Reals Lra Lia List FunctionalExtensionality.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet OneSided Activation ActDiff Network NoKink Counting.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

(** The tightness family: [N] neurons [y_k = b_k], activation [a], output
    [f(b) = sum_{k<N} c_k * a(b_k)]. *)
Definition tight_net (a : activation) (N : nat) (c : vec) : vec -> R :=
  fun w => dot N c (fun k => act_eval a (w k)).

(** Its kinked points: some neuron sits at a kink. *)
Definition tight_kinked (a : activation) (N : nat) (w : vec) : Prop :=
  exists k, (k < N)%nat /\ is_kink a (w k).

(** Output [g = sum_{k<N} c_k z_k]. *)
Fixpoint tight_out (c : vec) (N : nat) : expr :=
  match N with
  | O => EConst 0
  | S N' => EAdd (tight_out c N') (EMul (EConst (c N')) (ENeuron N'))
  end.

(** [N] neurons [y_k = b_k] (parameter [k] is the bias of neuron [k]) with
    activation [a], [W >= N] parameters, output [sum_k c_k z_k]. *)
Definition tight_network (a : activation) (N W : nat) (c : vec) : network :=
  mk_net W (fun _ => 0) (map (fun k => (EParam k, a)) (seq 0 N)) (tight_out c N).

(** Coordinate [p] is a bias of the pre-activation [pre]: it enters with
    coefficient 1, [pre (upd w p t) - t] does not depend on [t]. *)
Definition bias_shift (pre : vec -> R) (p : nat) : Prop :=
  forall w t, pre (upd w p t) - t = pre w - w p.

(** The pairs (neuron, kink of its activation). *)
Definition kink_pairs (act : nat -> activation) (N : nat) : list (nat * R) :=
  flat_map (fun k => map (pair k) (kinks (act k))) (seq 0 N).

(** [n = sum_k |ndf(sigma_k)|]. *)
Definition kink_total (net : network) : nat :=
  list_sum (map (fun k => length (kinks (sigma net k))) (seq 0 (n_size net))).

(** * One-sided derivatives of an activation *)

Lemma right_deriv_shift (g : R -> R) (x l : R) :
  right_deriv g x l -> right_deriv (fun t => g (x + t)) 0 l.
Proof.
  intros H eps Heps; destruct (H eps Heps) as [d [Hd K]]; exists d; split; [exact Hd|].
  intros t Ht; rewrite Rplus_0_l, Rplus_0_r; apply K; exact Ht.
Qed.

Lemma left_deriv_shift (g : R -> R) (x l : R) :
  left_deriv g x l -> left_deriv (fun t => g (x + t)) 0 l.
Proof.
  intros H eps Heps; destruct (H eps Heps) as [d [Hd K]]; exists d; split; [exact Hd|].
  intros t Ht; rewrite Rplus_0_l, Rplus_0_r; apply K; exact Ht.
Qed.

Lemma act_right_deriv (a : activation) (x : R) :
  right_deriv (act_eval a) x (slope_right a x).
Proof.
  destruct (act_eval_right_pieces a x) as [d [Hd H]].
  apply (right_deriv_local _ (piece a (right_piece a x)) x _ d Hd).
  - symmetry; apply right_piece_at.
  - intros t Ht; apply H; lra.
  - apply derivable_pt_lim_one_sided, is_derive_Reals, piece_derive.
Qed.

Lemma act_left_deriv (a : activation) (x : R) :
  left_deriv (act_eval a) x (slope_left a x).
Proof.
  destruct (act_eval_left_pieces a x) as [d [Hd H]].
  apply (left_deriv_local _ (piece a (left_piece a x)) x _ d Hd).
  - reflexivity.
  - intros t Ht; apply H; lra.
  - apply derivable_pt_lim_one_sided, is_derive_Reals, piece_derive.
Qed.

(** * The tightness family *)

Lemma dot_upd (N : nat) (c v : vec) (p : nat) (x : R) :
  (p < N)%nat -> dot N c (upd v p x) = dot N c v + c p * (x - v p).
Proof.
  intros Hp.
  replace (upd v p x) with (vadd v (vscale (x - v p) (unit_vec p))).
  - rewrite dot_vadd_r, dot_vscale_r, dot_unit_vec_r by exact Hp; ring.
  - extensionality i; unfold vadd, vscale, unit_vec, upd.
    destruct (Nat.eq_dec i p) as [->|]; ring.
Qed.

Lemma tight_net_upd (a : activation) (N : nat) (c w : vec) (p : nat) (s : R) :
  (p < N)%nat ->
  tight_net a N c (upd w p s) =
  tight_net a N c w + c p * (act_eval a s - act_eval a (w p)).
Proof.
  intros Hp; unfold tight_net.
  replace (fun k => act_eval a (upd w p s k))
    with (upd (fun k => act_eval a (w k)) p (act_eval a s)).
  - apply dot_upd; exact Hp.
  - extensionality i; unfold upd; destruct (Nat.eq_dec i p); reflexivity.
Qed.

(** Moving the bias of a neuron sitting at a kink: the one-sided derivatives
    are [c_k] times the one-sided slopes, which differ. *)
Lemma tight_kink_not_differentiable (a : activation) (N W : nat) (c w : vec) (k : nat) :
  (N <= W)%nat -> (k < N)%nat -> c k <> 0 -> is_kink a (w k) ->
  ~ differentiable W (tight_net a N c) w.
Proof.
  intros HNW Hk Hc [_ Hslopes].
  set (A := tight_net a N c w - c k * act_eval a (w k)).
  assert (Hf : forall t, tight_net a N c (upd w k (w k + t)) = A + c k * act_eval a (w k + t)).
  { intros t; rewrite tight_net_upd by exact Hk; unfold A; ring. }
  apply (one_sided_differ_not_differentiable W _ w k
           (0 + c k * slope_right a (w k)) (0 + c k * slope_left a (w k))); [lia | | |].
  - apply (right_deriv_ext _ _ _ _ Hf), right_deriv_plus;
      [apply right_deriv_const | apply right_deriv_scal, right_deriv_shift, act_right_deriv].
  - apply (left_deriv_ext _ _ _ _ Hf), left_deriv_plus;
      [apply left_deriv_const | apply left_deriv_scal, left_deriv_shift, act_left_deriv].
  - intros H; apply Hslopes.
    apply Rmult_eq_reg_l with (c k); [lra | exact Hc].
Qed.

(** Off the kinked points the tightness family is differentiable. *)
Lemma tight_net_differentiable (a : activation) (N W : nat) (c w : vec) :
  (N <= W)%nat -> ~ tight_kinked a N w -> differentiable W (tight_net a N c) w.
Proof.
  induction N as [|N IH]; intros HNW Hk.
  - exists vzero; apply (differentiable_at_ext W (fun _ => 0)); [|apply differentiable_at_const].
    intros v; unfold tight_net; apply dot_0.
  - destruct IH as [g Hg]; [lia | intros [k [Hk' Hkink]]; apply Hk; exists k; split; [lia | exact Hkink]|].
    assert (HN : ~ is_kink a (w N)) by (intros H; apply Hk; exists N; split; [lia | exact H]).
    eexists; apply (differentiable_at_ext W
      (fun v => tight_net a N c v + c N * act_eval a (v N))).
    + intros v; unfold tight_net; apply dot_S.
    + apply differentiable_at_plus; [exact Hg|].
      apply differentiable_at_scal, (differentiable_at_comp W (act_eval a) (fun v => v N)).
      * apply act_derivable_not_kink; exact HN.
      * apply differentiable_at_coord; lia.
Qed.

(** For the tightness family, non-differentiability means sitting at a kink. *)
Lemma tight_ndf_iff_kinked (a : activation) (N W : nat) (c w : vec) :
  (N <= W)%nat -> (forall k, (k < N)%nat -> c k <> 0) ->
  (~ differentiable W (tight_net a N c) w <-> tight_kinked a N w).
Proof.
  intros HNW Hc; split.
  - intros Hnd; apply Classical_Prop.NNPP; intros Hk.
    apply Hnd, tight_net_differentiable; assumption.
  - intros [k [Hk Hkink]]; apply (tight_kink_not_differentiable a N W c w k);
      auto.
Qed.

(** * Counting for the tightness family *)

Lemma kinks_length_le (a : activation) (M : list R) :
  incl (kinks a) M -> (length (kinks a) <= length M)%nat.
Proof. intros H; apply NoDup_incl_length; [apply kinks_NoDup | exact H]. Qed.

(** The number of kinked machine points. *)
Lemma tight_kinked_count (a : activation) (N W : nat) (M : list R) :
  NoDup M -> incl (kinks a) M -> (N <= W)%nat ->
  count (fun u => tight_kinked a N (word_vec u)) (words M W) =
  (length M ^ W - (length M - length (kinks a)) ^ N * length M ^ (W - N))%nat.
Proof.
  intros HM HK HNW.
  rewrite <- (tight_count M (kinks a) N W HM (kinks_NoDup a) HK HNW).
  apply count_ext; intros u _; unfold tight_kinked, word_vec.
  split; intros [k [Hk Hin]]; exists k; split; try exact Hk; apply kinks_spec; exact Hin.
Qed.

(** THEORY.md T2, tightness: for [N] neurons [y_k = b_k] with non-zero output
    weights and an activation whose [m] kinks all lie in [M],
    [|ndf_M(f)| = |M|^W - (|M|-m)^N |M|^(W-N)
                >= N m |M|^(W-1) (1 - (N-1) m / (2|M|))],
    with equality to the bound [N m |M|^(W-1)] for [N = 1]. *)
Theorem T2_tightness (a : activation) (N W : nat) (c : vec) (M : list R) :
  NoDup M -> incl (kinks a) M -> (N <= W)%nat -> (forall k, (k < N)%nat -> c k <> 0) ->
  let ndf := count (fun u => ~ differentiable W (tight_net a N c) (word_vec u)) (words M W) in
  let q := length M in
  let m := length (kinks a) in
  ndf = (q ^ W - (q - m) ^ N * q ^ (W - N))%nat /\
  INR (N * m * q ^ (W - 1)) * (1 - INR (N - 1) * INR m / (2 * INR q)) <= INR ndf /\
  (N = 1%nat -> ndf = (N * m * q ^ (W - 1))%nat).
Proof.
  intros HM HK HNW Hc ndf q m.
  assert (Hndf : ndf = (q ^ W - (q - m) ^ N * q ^ (W - N))%nat).
  { unfold ndf, q, m; rewrite <- (tight_kinked_count a N W M HM HK HNW).
    apply count_ext; intros u _; apply tight_ndf_iff_kinked; assumption. }
  assert (Hmq : (m <= q)%nat) by (apply kinks_length_le; exact HK).
  split; [exact Hndf | split].
  - rewrite Hndf; apply tight_count_ge_bound; assumption.
  - intros ->; rewrite Hndf; apply tight_count_N1; lia.
Qed.

(** * The counting bound, for abstract pre-activations with biases *)


(** At most one value of the bias coordinate puts [pre] at [c]. *)
Lemma bias_fibre_count (M : list R) (W p : nat) (pre : vec -> R) (c : R) :
  NoDup M -> (p < W)%nat -> bias_shift pre p ->
  (count (fun u => pre (word_vec u) = c) (words M W) <= length M ^ (W - 1))%nat.
Proof.
  intros HM Hp Hsh; apply (fibre_bound_unique M W p); [exact HM | exact Hp|].
  intros u v Hu Hv Heq Hcu Hcv.
  apply In_words in Hu as [Hlu _]; apply In_words in Hv as [Hlv _].
  assert (Hw : word_vec v = upd (word_vec u) p (word_vec v p)).
  { extensionality i; unfold upd, word_vec; destruct (Nat.eq_dec i p) as [->|Hi];
      [reflexivity | symmetry; apply Heq; exact Hi]. }
  assert (Hpv : word_vec v p = word_vec u p).
  { generalize (Hsh (word_vec u) (word_vec v p)); rewrite <- Hw; lra. }
  apply nth_ext with 0 0; [congruence|]; intros i Hi.
  destruct (Nat.eq_dec i p) as [->|Hne]; [symmetry; exact Hpv | apply Heq; exact Hne].
Qed.


Lemma kink_pairs_length (act : nat -> activation) (N : nat) :
  length (kink_pairs act N) = list_sum (map (fun k => length (kinks (act k))) (seq 0 N)).
Proof.
  unfold kink_pairs; induction (seq 0 N) as [|k l IH]; [reflexivity|].
  simpl; rewrite app_length, map_length, IH; reflexivity.
Qed.

Lemma In_kink_pairs (act : nat -> activation) (N k : nat) (c : R) :
  (k < N)%nat -> is_kink (act k) c -> In (k, c) (kink_pairs act N).
Proof.
  intros Hk Hc; unfold kink_pairs; apply in_flat_map; exists k; split.
  - apply in_seq; lia.
  - apply in_map, kinks_spec, Hc.
Qed.

(** THEORY.md T2, counting form: the machine points where some neuron sits at
    a kink number at most [n |M|^(W-1)], [n = sum_k |ndf(sigma_k)|]. *)
Lemma kink_count_bound_abstract (M : list R) (W N : nat)
    (act : nat -> activation) (pre : nat -> vec -> R) :
  NoDup M ->
  (forall k, (k < N)%nat -> exists p, (p < W)%nat /\ bias_shift (pre k) p) ->
  (count (fun u => exists k, (k < N)%nat /\ is_kink (act k) (pre k (word_vec u))) (words M W)
   <= list_sum (map (fun k => length (kinks (act k))) (seq 0 N)) * length M ^ (W - 1))%nat.
Proof.
  intros HM Hb.
  eapply Nat.le_trans.
  - apply (count_le _ (fun u => exists kc, In kc (kink_pairs act N) /\
                                 pre (fst kc) (word_vec u) = snd kc)).
    intros u _ [k [Hk Hkink]]; exists (k, pre k (word_vec u)); split; [|reflexivity].
    apply In_kink_pairs; assumption.
  - eapply Nat.le_trans; [apply count_union_bound|].
    rewrite <- kink_pairs_length, Nat.mul_comm, <- list_sum_map_const.
    apply list_sum_map_le; intros [k c] Hkc.
    assert (Hk : (k < N)%nat).
    { unfold kink_pairs in Hkc; apply in_flat_map in Hkc as [k' [Hk' Hin]].
      apply in_map_iff in Hin as [c' [Heq _]]; injection Heq as -> _.
      apply in_seq in Hk'; lia. }
    destruct (Hb k Hk) as [p [Hp Hsh]].
    apply (bias_fibre_count M W p); assumption.
Qed.

(** * T2 for bias networks *)


Lemma bias_network_shift (net : network) (k : nat) :
  bias_network net -> (k < n_size net)%nat ->
  exists p, (p < n_params net)%nat /\ bias_shift (fun w => preact net w k) p.
Proof.
  intros Hb Hk; destruct (Hb k Hk) as [p [r He]]; exists p; split.
  - destruct He as [Hp _]; exact Hp.
  - intros w t; generalize (exclusive_param_rest_upd net p k r w t He).
    unfold upd at 2; destruct (Nat.eq_dec p p); [tauto | congruence].
Qed.

(** THEORY.md T2, counting part: at most [n |M|^(W-1)] machine points have a
    kink neuron. *)
Theorem kink_count_bound (net : network) (M : list R) :
  bias_network net -> NoDup M ->
  (count (fun u => kink_neurons net (word_vec u) <> []) (words M (n_params net))
   <= kink_total net * length M ^ (n_params net - 1))%nat.
Proof.
  intros Hb HM; eapply Nat.le_trans; [|apply (kink_count_bound_abstract M _ _ (sigma net)
    (fun k w => preact net w k))].
  - apply count_le; intros u _ Hne.
    destruct (kink_neurons net (word_vec u)) as [|k l] eqn:Hl; [contradiction|].
    exists k; apply kink_neurons_spec; rewrite Hl; left; reflexivity.
  - exact HM.
  - intros k Hk; apply bias_network_shift; assumption.
Qed.

(** THEORY.md T2: [|ndf_M(f)| <= n |M|^(W-1)] for well-formed bias networks. *)
Theorem T2_ndf_count_bound (net : network) (M : list R) :
  wf net -> bias_network net -> NoDup M ->
  (count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
     (words M (n_params net))
   <= kink_total net * length M ^ (n_params net - 1))%nat.
Proof.
  intros Hwf Hb HM; eapply Nat.le_trans; [|apply kink_count_bound; assumption].
  apply count_le; intros u _; apply not_differentiable_kink; exact Hwf.
Qed.

(** * The tightness family as a bias network *)



Lemma tight_network_size a N W c : n_size (tight_network a N W c) = N.
Proof. unfold n_size; simpl; rewrite map_length, seq_length; reflexivity. Qed.

Lemma tight_network_tau a N W c k :
  (k < N)%nat -> tau (tight_network a N W c) k = EParam k.
Proof. intros Hk; unfold tau; simpl; rewrite nth_map_seq by exact Hk; reflexivity. Qed.

Lemma tight_network_sigma a N W c k :
  (k < N)%nat -> sigma (tight_network a N W c) k = a.
Proof. intros Hk; unfold sigma; simpl; rewrite nth_map_seq by exact Hk; reflexivity. Qed.

Lemma tight_network_preact a N W c w k :
  (k < N)%nat -> preact (tight_network a N W c) w k = w k.
Proof. intros Hk; unfold preact; rewrite tight_network_tau by exact Hk; reflexivity. Qed.

Lemma eval_tight_out x w z c N : eval x w z (tight_out c N) = dot N c z.
Proof.
  induction N as [|N IH]; simpl; [rewrite dot_0; reflexivity|].
  rewrite IH, dot_S; reflexivity.
Qed.

Lemma tight_network_eval a N W c :
  net_eval (tight_network a N W c) = tight_net a N c.
Proof.
  extensionality w; unfold net_eval.
  change (n_out (tight_network a N W c)) with (tight_out c N).
  rewrite eval_tight_out; unfold tight_net.
  apply dot_ext; intros i Hi; [reflexivity|].
  rewrite zvec_lt by (rewrite tight_network_size; exact Hi).
  unfold post; rewrite tight_network_sigma, tight_network_preact by exact Hi; reflexivity.
Qed.

Lemma tight_out_neurons c N j : occurs_neuron j (tight_out c N) -> (j < N)%nat.
Proof.
  induction N as [|N IH]; simpl; [tauto|].
  intros [H|[[]|H]]; [specialize (IH H); lia | lia].
Qed.

Lemma tight_out_params c N p : ~ occurs_param p (tight_out c N).
Proof. induction N as [|N IH]; simpl; tauto. Qed.

Lemma tight_network_wf a N W c : (N <= W)%nat -> wf (tight_network a N W c).
Proof.
  intros HNW; unfold wf; rewrite tight_network_size; split; [|split].
  - intros k Hk; rewrite tight_network_tau by exact Hk; split.
    + intros j [].
    + intros p Hp; simpl in Hp |- *; lia.
  - intros j Hj; apply (tight_out_neurons c); exact Hj.
  - intros p Hp; exfalso; apply (tight_out_params c N p Hp).
Qed.

Lemma tight_network_bias a N W c : (N <= W)%nat -> bias_network (tight_network a N W c).
Proof.
  intros HNW k Hk; rewrite tight_network_size in Hk.
  exists k, (EConst 0); unfold exclusive_param_with.
  rewrite tight_network_size, tight_network_tau by exact Hk; simpl.
  split; [lia|]; split; [exact Hk|]; split; [|split; [apply tight_out_params|]].
  - intros j Hj Hjk; rewrite tight_network_tau by exact Hj; simpl; lia.
  - split; [tauto|]; split; [tauto|]; intros w z; ring.
Qed.

Lemma tight_network_kink_total a N W c :
  kink_total (tight_network a N W c) = (N * length (kinks a))%nat.
Proof.
  unfold kink_total; rewrite tight_network_size.
  rewrite (list_sum_map_ext _ (fun _ => length (kinks a))).
  - rewrite list_sum_map_const, seq_length; lia.
  - intros k Hk; apply in_seq in Hk; rewrite tight_network_sigma by lia; reflexivity.
Qed.

(** THEORY.md T2, tightness, for the network family itself: it is a
    well-formed bias network with [n = N m], and
    [|ndf_M(f)| = |M|^W - (|M|-m)^N |M|^(W-N) >= n |M|^(W-1) (1 - (N-1) m / (2|M|))],
    with [|ndf_M(f)| = n |M|^(W-1)] when [N = 1]. *)
Theorem T2_tightness_network (a : activation) (N W : nat) (c : vec) (M : list R) :
  NoDup M -> incl (kinks a) M -> (N <= W)%nat -> (forall k, (k < N)%nat -> c k <> 0) ->
  let net := tight_network a N W c in
  let ndf := count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
               (words M (n_params net)) in
  let q := length M in
  let m := length (kinks a) in
  wf net /\ bias_network net /\ kink_total net = (N * m)%nat /\
  ndf = (q ^ W - (q - m) ^ N * q ^ (W - N))%nat /\
  INR (kink_total net * q ^ (W - 1)) * (1 - INR (N - 1) * INR m / (2 * INR q)) <= INR ndf /\
  (N = 1%nat -> ndf = (kink_total net * q ^ (W - 1))%nat).
Proof.
  intros HM HK HNW Hc net ndf q m.
  assert (Hndf : ndf = count (fun u => ~ differentiable W (tight_net a N c) (word_vec u))
                         (words M W))
    by (unfold ndf, net; rewrite tight_network_eval; reflexivity).
  destruct (T2_tightness a N W c M HM HK HNW Hc) as (H1 & H2 & H3).
  unfold net; rewrite tight_network_kink_total.
  split; [apply tight_network_wf; exact HNW|].
  split; [apply tight_network_bias; exact HNW|].
  split; [reflexivity|].
  rewrite Hndf; split; [exact H1 | split; [exact H2 | exact H3]].
Qed.

(** The same bound as a fraction of the machine parameter space:
    [|ndf_M(f)| / |M^W| <= n / |M|]. *)
Corollary T2_ndf_fraction_bound (net : network) (M : list R) :
  wf net -> bias_network net -> NoDup M -> M <> [] -> (1 <= n_params net)%nat ->
  INR (count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
         (words M (n_params net))) / INR (length M ^ n_params net)
  <= INR (kink_total net) / INR (length M).
Proof.
  intros Hwf Hb HM HMne HW.
  assert (Hq : (0 < length M)%nat) by (destruct M; [congruence | simpl; lia]).
  assert (HqR : 0 < INR (length M)) by (apply lt_0_INR; exact Hq).
  generalize (le_INR _ _ (T2_ndf_count_bound net M Hwf Hb HM)).
  rewrite mult_INR, !pow_INR; intros H.
  replace (n_params net) with (S (n_params net - 1)) at 2 by lia; simpl pow.
  assert (HX : 0 < INR (length M) ^ (n_params net - 1)) by (apply pow_lt; exact HqR).
  apply Rle_trans with
    (INR (kink_total net) * INR (length M) ^ (n_params net - 1) /
     (INR (length M) * INR (length M) ^ (n_params net - 1))).
  - unfold Rdiv; apply Rmult_le_compat_r; [|exact H].
    left; apply Rinv_0_lt_compat, Rmult_lt_0_compat; assumption.
  - right; field; lra.
Qed.

(** * Tightness with output weights as parameters and an output bias *)

(* THEORY.md T2, last sentence: N neurons y_k = b_k, output
   f = sum_k v_k z_k + c with the output weights v_k and the output bias c
   parameters too.  Parameters interleaved: b_k = w_(2k), v_k = w_(2k+1),
   c = w_(2N), and W >= 2N + 1.  f is not differentiable at w iff some b_k
   is a kink with v_k <> 0 (T3: the adjoint of neuron k is v_k), so over M
   (with 0 in M) |ndf_M(f)| = |M|^W - (|M|^2 - m (|M| - 1))^N |M|^(W-2N). *)

From Coq Require Import ClassicalEpsilon.
From ADCorrect Require Import AD T3.

(** ** Counting words by pairs of coordinates *)

Lemma list_sum_map_mul_r {A : Type} (f : A -> nat) (c : nat) (l : list A) :
  list_sum (map (fun x => f x * c) l)%nat = (list_sum (map f l) * c)%nat.
Proof. induction l as [|x l IH]; simpl; [reflexivity | rewrite IH; ring]. Qed.

Lemma count_and_const {A : Type} (P : Prop) (R : A -> Prop) (l : list A) :
  count (fun x => P /\ R x) l = ((if excluded_middle_informative P then 1 else 0) * count R l)%nat.
Proof.
  destruct (excluded_middle_informative P) as [HP|HP].
  - rewrite Nat.mul_1_l; apply count_ext; intros x _; tauto.
  - apply count_none; tauto.
Qed.

Lemma ind_if {A : Type} (P : A -> Prop) (x : A) :
  ind P x = if excluded_middle_informative (P x) then 1%nat else 0%nat.
Proof.
  unfold ind; destruct (excluded_middle_informative (P x)) as [H|H].
  - rewrite count_cons_true by exact H; reflexivity.
  - rewrite count_cons_false by exact H; reflexivity.
Qed.

(* words of length W whose first N coordinate pairs (2k, 2k+1) satisfy Q:
   (number of good pairs)^N |M|^(W-2N) *)
Lemma count_words_pairs (M : list R) (Q : R -> R -> Prop) (N W : nat) :
  (2 * N <= W)%nat ->
  count (fun u => forall k, (k < N)%nat -> Q (nth (2 * k) u 0) (nth (2 * k + 1) u 0)) (words M W) =
  (list_sum (map (fun a => count (Q a) M) M) ^ N * length M ^ (W - 2 * N))%nat.
Proof.
  revert W; induction N as [|N IH]; intros W HW.
  - rewrite count_all by (intros; lia); rewrite words_length; simpl; rewrite Nat.sub_0_r; lia.
  - destruct W as [|[|W]]; try lia.
    replace (S (S W) - 2 * S N)%nat with (W - 2 * N)%nat by lia.
    cbn [words]; rewrite count_flat_map.
    rewrite (list_sum_map_ext _ (fun a => count (Q a) M *
               (list_sum (map (fun a => count (Q a) M) M) ^ N * length M ^ (W - 2 * N)))%nat).
    + rewrite list_sum_map_mul_r; simpl; ring.
    + intros a _; rewrite count_map, count_flat_map.
      rewrite <- list_sum_map_ind_mul; apply list_sum_map_ext; intros b _.
      rewrite count_map, <- (IH W) by lia.
      rewrite (count_ext _ (fun v => Q a b /\
                 forall k, (k < N)%nat -> Q (nth (2 * k) v 0) (nth (2 * k + 1) v 0))).
      * rewrite count_and_const, ind_if; reflexivity.
      * intros v _; split.
        -- intros H; split; [exact (H 0%nat ltac:(lia))|].
           intros k Hk; generalize (H (S k) ltac:(lia)).
           replace (2 * S k)%nat with (S (S (2 * k))) by lia; simpl; tauto.
        -- intros [Hab H] [|k] Hk; [exact Hab|].
           replace (2 * S k)%nat with (S (S (2 * k))) by lia; simpl; apply H; lia.
Qed.

(* pairs (b, v) in M^2 with not (b a kink and v <> 0): |M|^2 - m (|M| - 1) *)
Lemma count_pairs_not_kink_nonzero (M K : list R) :
  NoDup M -> NoDup K -> incl K M -> In 0 M ->
  list_sum (map (fun a => count (fun b => ~ (In a K /\ b <> 0)) M) M) =
  (length M * length M - length K * (length M - 1))%nat.
Proof.
  intros HM HK Hincl H0.
  assert (Hm : (length K <= length M)%nat) by (apply NoDup_incl_length; assumption).
  assert (Hq : (1 <= length M)%nat) by (destruct M; [destruct H0 | simpl; lia]).
  rewrite (list_sum_map_ext _ (fun a => ind (fun a => In a K) a * 1 +
                                        ind (fun a => ~ In a K) a * length M)%nat).
  - rewrite list_sum_map_add, !list_sum_map_ind_mul, count_In_incl, count_not_In_incl by assumption.
    remember (length M - length K)%nat as d eqn:Hd.
    replace (length M) with (length K + d)%nat by lia.
    destruct d as [|d]; [rewrite Nat.add_0_r; nia|].
    replace (length K + S d - 1)%nat with (length K + d)%nat by lia; nia.
  - intros a _; rewrite !ind_if.
    destruct (excluded_middle_informative (In a K)) as [Ha|Ha];
      destruct (excluded_middle_informative (~ In a K)); try tauto.
    + rewrite (count_ext _ (fun b => In b [0])).
      * rewrite count_In_incl; [reflexivity | constructor; [intros [] | constructor] | exact HM |].
        intros x [<-|[]]; exact H0.
      * intros b _; simpl; split.
        -- intros H; left; destruct (Req_dec b 0) as [->|Hb]; [reflexivity | tauto].
        -- intros [<-|[]] [_ Hc]; apply Hc; reflexivity.
    + rewrite count_all by tauto; lia.
Qed.

(** ** The network *)

(* sum_(k<N) v_k z_k *)
Fixpoint tightv_sum (N : nat) : expr :=
  match N with
  | O => EConst 0
  | S N' => EAdd (tightv_sum N') (EMul (EParam (2 * N' + 1)) (ENeuron N'))
  end.

Definition tightv_network (a : activation) (N W : nat) : network :=
  mk_net W (fun _ => 0) (map (fun k => (EParam (2 * k), a)) (seq 0 N))
    (EAdd (tightv_sum N) (EParam (2 * N))).

Lemma tightv_size a N W : n_size (tightv_network a N W) = N.
Proof. unfold n_size; simpl; rewrite map_length, seq_length; reflexivity. Qed.

Lemma tightv_tau a N W k : (k < N)%nat -> tau (tightv_network a N W) k = EParam (2 * k).
Proof. intros Hk; unfold tau; simpl; rewrite nth_map_seq by exact Hk; reflexivity. Qed.

Lemma tightv_sigma a N W k : (k < N)%nat -> sigma (tightv_network a N W) k = a.
Proof. intros Hk; unfold sigma; simpl; rewrite nth_map_seq by exact Hk; reflexivity. Qed.

Lemma tightv_preact a N W w k : (k < N)%nat -> preact (tightv_network a N W) w k = w (2 * k)%nat.
Proof. intros Hk; unfold preact; rewrite tightv_tau by exact Hk; reflexivity. Qed.

Lemma tightv_sum_neurons N j : occurs_neuron j (tightv_sum N) -> (j < N)%nat.
Proof. induction N as [|N IH]; simpl; [tauto|]; intros [H|[[]|H]]; [specialize (IH H); lia | lia]. Qed.

Lemma tightv_sum_params N p : occurs_param p (tightv_sum N) -> exists k, (k < N)%nat /\ p = (2 * k + 1)%nat.
Proof.
  induction N as [|N IH]; simpl; [tauto|]; intros [H|[H|[]]].
  - destruct (IH H) as [k [Hk ->]]; exists k; split; [lia | reflexivity].
  - exists N; split; [lia | symmetry; exact H].
Qed.

Lemma eval_dneuron_tightv_sum x w z N k :
  eval x w z (dneuron k (tightv_sum N)) = if lt_dec k N then w (2 * k + 1)%nat else 0.
Proof.
  induction N as [|N IH]; cbn [tightv_sum dneuron eval];
    [destruct (lt_dec k 0); [lia | reflexivity]|].
  rewrite IH; destruct (Nat.eq_dec N k) as [Heq|Hne].
  - subst k; destruct (lt_dec N N), (lt_dec N (S N)); try lia; ring.
  - destruct (lt_dec k N), (lt_dec k (S N)); try lia; ring.
Qed.

Lemma eval_tightv_sum x w z N :
  eval x w z (tightv_sum N) = sumn N (fun k => w (2 * k + 1)%nat * z k).
Proof. induction N as [|N IH]; simpl; [reflexivity|]; rewrite IH, sumn_S; reflexivity. Qed.

(* f(w) = sum_k v_k sigma(b_k) + c *)
Lemma tightv_eval a N W w :
  net_eval (tightv_network a N W) w =
  sumn N (fun k => w (2 * k + 1)%nat * act_eval a (w (2 * k)%nat)) + w (2 * N)%nat.
Proof.
  unfold net_eval; cbn [n_out tightv_network]; simpl eval; rewrite eval_tightv_sum; f_equal.
  apply sumn_ext; intros k Hk; rewrite zvec_lt by (rewrite tightv_size; exact Hk).
  unfold post; rewrite tightv_sigma, tightv_preact by exact Hk; reflexivity.
Qed.

Lemma tightv_wf a N W : (2 * N + 1 <= W)%nat -> wf (tightv_network a N W).
Proof.
  intros HW; unfold wf; rewrite tightv_size; split; [|split].
  - intros k Hk; rewrite tightv_tau by exact Hk; split; [intros j []|].
    intros p Hp; simpl in Hp |- *; lia.
  - intros j [Hj|[]]; apply tightv_sum_neurons, Hj.
  - intros p [Hp|Hp]; simpl in Hp |- *.
    + destruct (tightv_sum_params N p Hp) as [k [Hk ->]]; lia.
    + lia.
Qed.

Lemma tightv_bias a N W : (2 * N + 1 <= W)%nat -> bias_network (tightv_network a N W).
Proof.
  intros HW k Hk; rewrite tightv_size in Hk.
  exists (2 * k)%nat, (EConst 0); unfold exclusive_param_with.
  rewrite tightv_size, tightv_tau by exact Hk; simpl.
  split; [lia|]; split; [exact Hk|]; split; [|split].
  - intros j Hj Hjk; rewrite tightv_tau by exact Hj; simpl; lia.
  - intros [Hp|Hp]; [destruct (tightv_sum_params N _ Hp) as [j [_ Hj]]; lia | simpl in Hp; lia].
  - split; [tauto|]; split; [tauto|]; intros w z; ring.
Qed.

Lemma tightv_kink_total a N W : kink_total (tightv_network a N W) = (N * length (kinks a))%nat.
Proof.
  unfold kink_total; rewrite tightv_size.
  rewrite (list_sum_map_ext _ (fun _ => length (kinks a))).
  - rewrite list_sum_map_const, seq_length; lia.
  - intros k Hk; apply in_seq in Hk; rewrite tightv_sigma by lia; reflexivity.
Qed.

(* the adjoint of neuron k is its output weight v_k *)
Lemma tightv_zbar a N W D w k :
  (k < N)%nat -> zbar (tightv_network a N W) D w k = w (2 * k + 1)%nat.
Proof.
  intros Hk; rewrite zbar_eq; cbn [n_out tightv_network]; simpl eval.
  rewrite eval_dneuron_tightv_sum; destruct (lt_dec k N) as [_|]; [|lia].
  rewrite sum_list_map_zero; [ring|].
  intros j Hj; apply in_seq in Hj; rewrite tightv_size in Hj.
  rewrite tightv_tau by lia; simpl; ring.
Qed.

(* not differentiable iff some b_k is a kink with v_k <> 0 *)
Lemma tightv_ndf_iff a N W w :
  (2 * N + 1 <= W)%nat ->
  (~ differentiable W (net_eval (tightv_network a N W)) w <->
   exists k, (k < N)%nat /\ In (w (2 * k)%nat) (kinks a) /\ w (2 * k + 1)%nat <> 0).
Proof.
  intros HW.
  change W with (n_params (tightv_network a N W)) at 1.
  rewrite (T3 (tightv_network a N W) (fun _ => 0) w (tightv_wf a N W HW) (tightv_bias a N W HW)).
  split.
  - intros [k [Hk Hz]]; apply kink_neurons_spec in Hk as [Hk Hkink].
    rewrite tightv_size in Hk; rewrite tightv_sigma, tightv_preact, <- kinks_spec in Hkink by exact Hk.
    rewrite tightv_zbar in Hz by exact Hk; exists k; tauto.
  - intros [k [Hk [Hkink Hv]]]; exists k; split.
    + apply kink_neurons_spec; rewrite tightv_size, tightv_sigma, tightv_preact, <- kinks_spec
        by exact Hk; tauto.
    + rewrite tightv_zbar by exact Hk; exact Hv.
Qed.

(** THEORY.md T2, tightness with output weights as parameters and an output
    bias: a well-formed bias network with n = N m and, when 0 is in M,
    [|ndf_M(f)| = |M|^W - (|M|^2 - m (|M| - 1))^N |M|^(W-2N)]. *)
Theorem T2_tightness_output_params (a : activation) (N W : nat) (M : list R) :
  NoDup M -> incl (kinks a) M -> In 0 M -> (2 * N + 1 <= W)%nat ->
  let net := tightv_network a N W in
  let ndf := count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
               (words M (n_params net)) in
  let q := length M in
  let m := length (kinks a) in
  wf net /\ bias_network net /\ kink_total net = (N * m)%nat /\
  ndf = (q ^ W - (q * q - m * (q - 1)) ^ N * q ^ (W - 2 * N))%nat.
Proof.
  intros HM HK H0 HW net ndf q m.
  split; [apply tightv_wf, HW|]. split; [apply tightv_bias, HW|].
  split; [apply tightv_kink_total|].
  unfold ndf, net, q, m; cbn [n_params tightv_network].
  rewrite (count_ext _ (fun u => exists k, (k < N)%nat /\
             In (nth (2 * k) u 0) (kinks a) /\ nth (2 * k + 1) u 0 <> 0))
    by (intros u _; apply tightv_ndf_iff, HW).
  rewrite <- (count_pairs_not_kink_nonzero M (kinks a)) by (auto using kinks_NoDup).
  rewrite <- (count_words_pairs M (fun x y => ~ (In x (kinks a) /\ y <> 0))) by lia.
  rewrite <- words_length.
  rewrite <- (count_compl (fun u => exists k, (k < N)%nat /\
                In (nth (2 * k) u 0) (kinks a) /\ nth (2 * k + 1) u 0 <> 0) (words M W)).
  rewrite (count_ext (fun u => ~ _) (fun u => forall k, (k < N)%nat ->
             ~ (In (nth (2 * k) u 0) (kinks a) /\ nth (2 * k + 1) u 0 <> 0))); [lia|].
  intros u _; split.
  - intros H k Hk Hc; apply H; exists k; tauto.
  - intros H [k [Hk Hc]]; exact (H k Hk Hc).
Qed.
