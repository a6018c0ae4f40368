(* T6 for every choice in dense batched networks (THEORY.md section 8.1,
   "Open" (1); issue 18, item 2).  For a batched bias network whose kinked
   base neurons are dense (Dense.v: tau_k = sum_q w_q s_q, e.g.
   b_k + sum_j w_kj s_j, each w_q a parameter of neuron k only, shared by its
   batch copies), with a C1 loss, AD with a choice D is the gradient wherever
   L is differentiable, for every D that gives copies of one base neuron at
   the same pre-activation the same value (in particular for every choice
   function D(c) = D_k(y_c) of the base neuron and the point, with no
   theta-uniformity).  The condition on D cannot be dropped: T6DenseFails.v.
   Chain: the tangent network of the batched network is batched
   (T6Correct.v); the directions of a dense neuron's parameters move no copy
   of a lower base neuron (exclusivity); two copies with the same
   coefficients in these directions have the same input row and, by Euler's
   identity (Dense.v), the same pre-activation, hence the same choice and
   the same theta; T6DenseTangent.v then gives AD = gradient. *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical.
From ADCorrect Require Import Vec Frechet Activation Network AD T3 C1Output Batch T6 Tangent
  T6Tangent T6Correct Dense T6DenseTangent.
Import ListNotations.
Open Scope R_scope.

(** * The tangent network of a dense batched network *)

Section DenseBatch.
Variables (net : network) (B : nat) (xs : nat -> nat -> R).
Let N := n_size net.
Let bnet := batch_neurons net B xs.
Hypothesis Hwf : wf_neurons net.
Variable o : expr.
Let L := with_out bnet o.
Hypothesis HwfL : wf L.
Variable w : vec.
Let T := tnet_of L w.

Lemma L_size : n_size L = (B * N)%nat.
Proof. unfold L, n_size at 1; cbn [n_neurons with_out]; fold (n_size bnet); unfold bnet; apply batch_size. Qed.

Lemma dense_copy_zvec (i k j : nat) : (i < B)%nat -> (j < k)%nat -> (k < N)%nat ->
  zvec L w (i * N + j) = zvals (base_at net (xs i)) w k j.
Proof.
  intros Hi Hj Hk; unfold L; rewrite zvec_with_out; unfold bnet.
  rewrite (zvec_lt (batch_neurons net B xs)) by (rewrite batch_size; apply copy_lt; lia).
  rewrite (zvals_lt (base_at net (xs i)) w k j) by lia.
  apply batch_post; [exact Hwf | exact Hi | lia].
Qed.

(* the coefficient of w_p in copy (k, i) is d tau_k / d w_p on input x_i *)
Lemma dense_copy_A (i k p : nat) : (i < B)%nat -> (k < N)%nat ->
  t_A T (i * N + k) p = eval (xs i) w (zvals (base_at net (xs i)) w k) (dparam p (tau net k)).
Proof.
  intros Hi Hk; cbn [t_A T tnet_of]; unfold dw_coef.
  change (tau L (i * N + k)) with (tau bnet (i * N + k)); unfold bnet.
  rewrite batch_tau, dparam_inst, eval_inst by assumption.
  apply eval_ext_neuron; intros j Hj; apply occurs_neuron_dparam in Hj.
  apply dense_copy_zvec; [exact Hi | exact (proj1 (Hwf k Hk) j Hj) | exact Hk].
Qed.

Lemma dense_copy_preact (i k : nat) : (i < B)%nat -> (k < N)%nat ->
  preact L w (i * N + k) = eval (xs i) w (zvals (base_at net (xs i)) w k) (tau net k).
Proof. intros Hi Hk; unfold L; rewrite preact_with_out; unfold bnet; rewrite batch_preact by assumption; reflexivity. Qed.

Lemma dense_copy_sigma (c : nat) : (c < B * N)%nat -> sigma L c = sigma net (c mod N).
Proof.
  intros Hc; destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk ->]]]].
  change (sigma L (i * N + k)) with (sigma bnet (i * N + k)); unfold bnet.
  rewrite batch_sigma, copy_mod by assumption; reflexivity.
Qed.

(* copies of a neuron linear in the parameters with the same row have the
   same pre-activation *)
Lemma dense_rows_preact (c c' : nat) : (c < B * N)%nat -> (c' < B * N)%nat -> (c mod N = c' mod N)%nat ->
  lin_params (tau net (c mod N)) ->
  (forall p, In p (neuron_params net (c mod N)) -> t_A T c p = t_A T c' p) ->
  preact L w c = preact L w c'.
Proof.
  intros Hc Hc' Hm Hl Hrow.
  destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk ->]]]].
  destruct (copy_decompose N B c' Hc') as [i' [k' [Hi' [Hk' ->]]]].
  rewrite !copy_mod in Hm by assumption; subst k'.
  rewrite copy_mod in Hl, Hrow by assumption.
  rewrite !dense_copy_preact, !dense_euler by assumption.
  apply sum_list_map_ext; intros p Hp; rewrite <- !dense_copy_A by assumption.
  rewrite Hrow by exact Hp; reflexivity.
Qed.

(* AD with a choice that is equal on copies of a base neuron at equal
   pre-activations is the gradient wherever L is differentiable *)
Theorem batch_ad_correct_dense (bias : nat -> nat) (D : nat -> R) (G : vec) :
  (forall k i, (k < N)%nat -> (i < B)%nat ->
     exists r, exclusive_param_with (base_at net (xs i)) (bias k) k (EConst 1) r) ->
  kinked_dense net ->
  (forall c c', (c < n_size L)%nat -> (c' < n_size L)%nat -> (c mod N = c' mod N)%nat ->
     preact L w c = preact L w c' -> D c = D c') ->
  differentiable_at (n_params L) (net_eval L) w G ->
  forall p, (p < n_params L)%nat -> ad L D w p = G p.
Proof.
  intros Hbias Hkd HD Hd p Hp.
  assert (HT : batched_tnet (fun c => c mod N) bias T) by exact (batch_tnet_batched net B xs Hwf bias Hbias o HwfL w).
  assert (HN : t_N T = (B * N)%nat) by exact L_size.
  (* the weight directions: the parameters of the dense base neurons *)
  destruct (finite_choice (fun k l => (dense_neuron net k -> l = neuron_params net k) /\
                                      (~ dense_neuron net k -> l = [])) N [])
    as [Pf HPf].
  { clear p Hp; intros k _; destruct (classic (dense_neuron net k)) as [Hk|Hk];
      [exists (neuron_params net k) | exists []]; split; intros; tauto. }
  set (P := fun k => if lt_dec k N then Pf k else []).
  assert (HPin : forall k p, In p (P k) -> (k < N)%nat /\ dense_neuron net k /\ occurs_param p (tau net k)).
  { intros k q Hin; unfold P in Hin; destruct (lt_dec k N) as [Hk|]; [|destruct Hin].
    destruct (classic (dense_neuron net k)) as [Hdk|Hdk].
    - rewrite (proj1 (HPf k Hk) Hdk) in Hin; apply neuron_params_spec in Hin; tauto.
    - rewrite (proj2 (HPf k Hk) Hdk) in Hin; destruct Hin. }
  assert (HDD : dense_dirs (fun c => c mod N) P T).
  { split.
    - intros k q c Hin Hc Hlt; destruct (HPin k q Hin) as [Hk [[_ Hex] Hq]].
      rewrite HN in Hc; destruct (copy_decompose N B c Hc) as [i [k' [Hi [Hk' ->]]]].
      rewrite copy_mod in Hlt by exact Hk'.
      rewrite dense_copy_A by assumption; apply dparam_not_occurs.
      apply (Hex q Hq k' Hk'); lia.
    - intros k q Hin; destruct (HPin k q Hin) as [Hk [_ Hq]]; cbn [t_W T tnet_of].
      exact (proj2 (Hwf k Hk) q Hq). }
  set (theta := fun c => theta_of (sigma L c) (D c) (preact L w c)).
  assert (HU : row_uniform (fun c => c mod N) P theta T).
  { intros c c' Hc Hc' Hb Hk Hk' Ha; cbn [t_sl t_sr T tnet_of] in Hk, Hk'.
    rewrite HN in Hc, Hc'.
    assert (Hkc : is_kink (sigma L c) (preact L w c))
      by (apply NNPP; intros Hn; apply Hk, not_kink_slopes, Hn).
    set (k := (c mod N)%nat) in *.
    assert (HkN : (k < N)%nat) by (apply Nat.mod_upper_bound; intros E; rewrite E in Hc; lia).
    rewrite dense_copy_sigma in Hkc by exact Hc; fold k in Hkc.
    assert (Hdk : dense_neuron net k).
    { apply Hkd; [exact HkN|]; intros E; apply <- kinks_spec in Hkc; rewrite E in Hkc; destruct Hkc. }
    assert (HPk : P k = neuron_params net k)
      by (unfold P; destruct (lt_dec k N); [apply (proj1 (HPf k HkN) Hdk) | lia]).
    rewrite HPk in Ha; pose proof (proj1 (agreeb_spec (fun c => c mod N) bias P theta _ _ _ _) Ha) as Ha'.
    assert (Hy : preact L w c = preact L w c').
    { apply dense_rows_preact; [exact Hc | exact Hc' | exact Hb | exact (proj1 Hdk) |].
      intros q Hq; symmetry; apply Ha', Hq. }
    unfold theta; rewrite <- Hy, (HD c c') by (rewrite ?L_size; assumption).
    rewrite !dense_copy_sigma by assumption.
    replace (c' mod N)%nat with (c mod N)%nat by exact Hb; reflexivity. }
  assert (Hlin : tlinear T (hat T) G) by (intros v Hv; exact (tangent_linear_of_differentiable L w HwfL G Hd v Hv)).
  assert (H1 := dense_tangent_T6 (fun c => c mod N) bias P theta T G HT HDD HU Hlin (unit_vec p)
                  (supported_unit_vec _ p Hp)).
  change (t_W T) with (n_params L) in H1; rewrite dot_unit_vec_r in H1 by exact Hp.
  rewrite (ad_tout L D w p HwfL Hp), <- H1; apply tout_ext; intros c t Hc.
  unfold lin, copy_slopes, dchoice; cbn [t_sl t_sr T tnet_of]; f_equal.
  destruct (classic (is_kink (sigma L c) (preact L w c))) as [Hk|Hk].
  - rewrite act_deriv_choice_kink by exact Hk; unfold theta; apply theta_of_spec, Hk.
  - rewrite act_deriv_choice_not_kink, (not_kink_slopes _ _ Hk) by exact Hk; ring.
Qed.

End DenseBatch.

(** * With a C1 loss *)

Section DenseCorrect.
Variables (net : network) (B : nat) (xs : nat -> nat -> R).
Variable loss : c1_output (n_params net) (n_size (batch_neurons net B xs)).
Let N := n_size net.
Let bnet := batch_neurons net B xs.
Let bn := batch_net net B xs loss.
Hypothesis Hwf : wf_neurons net.
Hypothesis Hb : batch_bias net B xs.
Hypothesis Hkd : kinked_dense net.

Theorem T6_dense_ad_correct (D : nat -> R) (w g : vec) :
  (forall c c', (c < n_size bnet)%nat -> (c' < n_size bnet)%nat -> (c mod N = c' mod N)%nat ->
     preact bnet w c = preact bnet w c' -> D c = D c') ->
  differentiable_at (n_params net) (c1_eval bn) w g ->
  forall p, (p < n_params net)%nat -> ad_c1 bn D w p = g p.
Proof.
  intros HD Hd p Hp.
  assert (Hwfb : wf_neurons bnet) by (apply batch_wf, Hwf).
  destruct (finite_choice (fun k p => forall i, (i < B)%nat ->
              exists r, exclusive_param_with (base_at net (xs i)) p k (EConst 1) r) N 0%nat Hb)
    as [bias Hbias].
  apply (c1_differentiable_at_iff bn Hwfb) in Hd.
  unfold ad_c1; rewrite (batch_ad_correct_dense net B xs Hwf (lin_out (dgz bn w) (n_size (cn_net bn)))
                           (wf_net_lin bn w Hwfb) w bias D (fun p => g p - dgw bn w p)
                           (fun k i Hk Hi => Hbias k Hk i Hi) Hkd); [ring | | exact Hd | exact Hp].
  intros c c' Hc Hc' Hm Hy; apply HD; try assumption.
  unfold net_lin in Hy; rewrite !preact_with_out in Hy; exact Hy.
Qed.

(* a choice function D_k per base neuron, any values at the kinks *)
Corollary T6_dense_ad_correct_fun (Dk : nat -> R -> R) (w g : vec) :
  differentiable_at (n_params net) (c1_eval bn) w g ->
  forall p, (p < n_params net)%nat -> ad_c1 bn (fun c => Dk (c mod N) (preact bnet w c)) w p = g p.
Proof.
  apply T6_dense_ad_correct; intros c c' _ _ Hm Hy; rewrite Hm, Hy; reflexivity.
Qed.

End DenseCorrect.
